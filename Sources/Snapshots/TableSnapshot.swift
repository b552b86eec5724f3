import PortmapCore

/// One table of a layout the node holds, as its backend reads it back for `hostports`: the
/// Go plugin's x_tables nat layout (whichever store keeps it), the nftables backend's table, or
/// upstream's nftables table.
public enum TableSnapshot: Sendable, Equatable {
    case nat(NatTableSnapshot)
    case nftables(NFTablesSnapshot)
    case upstreamNFTables(UpstreamNFTablesSnapshot)

    public var family: IPFamily {
        switch self {
        case .nat(let table): table.family
        case .nftables(let table): table.family
        case .upstreamNFTables(let table): table.family
        }
    }
}

/// A backend as `hostports` reads it: the tables of its layout in this network namespace, read
/// without locking, committing or creating anything. `hostports` lists one reader per backend.
public protocol TableSnapshotReader {
    func tableSnapshots() throws(BackendError) -> [TableSnapshot]
}
