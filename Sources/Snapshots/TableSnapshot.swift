import PortmapCore

/// One table of a layout the node holds, as its backend reads it back for `hostports`: the
/// Go plugin's x_tables nat layout (whichever store keeps it), the nftables backend's table, or
/// upstream's nftables table.
public enum TableSnapshot: Sendable, Equatable {
    case nat(NatTableSnapshot)
    case nftables(NFTablesSnapshot)
    case upstreamNFTables(UpstreamNFTablesSnapshot)
    /// Another forwarder's nftables table (an `inet` one holds both families).
    case foreignNFTables(ForeignNFTablesSnapshot)
}

/// A backend as `hostports` reads it: the tables of its layout in this network namespace, read
/// without locking, committing or creating anything. `hostports` lists one reader per backend.
public protocol TableSnapshotReader {
    /// The tables, the rules of nat tables read for the chains `natChains` holds only.
    func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot]
}

extension TableSnapshotReader {
    /// Every table whole.
    public func tableSnapshots() throws(BackendError) -> [TableSnapshot] {
        try tableSnapshots(natChains: .all)
    }
}
