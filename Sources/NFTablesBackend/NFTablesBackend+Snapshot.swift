import PortmapCore
import Snapshots

extension NFTablesBackend: TableSnapshotReader {
    /// Each family's table as diagnostics read it: whether it exists, its chains, and the elements
    /// of the plugin's sets, decoded, each with its owner comment ("" for none); then upstream's
    /// table of each family, its container rules decoded (`UpstreamRuleDecoder`); then every other
    /// table with a nat hook (`foreignSnapshots`). Only reads: no
    /// lock, no batch, and a table that does not exist is reported as such.
    public func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot] {
        let reader = TableReader(socket: try open())
        var snapshots: [TableSnapshot] = []
        for family in IPFamily.allCases {
            snapshots.append(.nftables(try reader.contents(family).snapshot))
        }
        for family in IPFamily.allCases {
            snapshots.append(.upstreamNFTables(try reader.upstreamSnapshot(family)))
        }
        return snapshots + (try reader.foreignSnapshots()).map(TableSnapshot.foreignNFTables)
    }
}
