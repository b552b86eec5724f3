import PortmapCore
import Snapshots

extension NFTablesBackend {
    /// Each family's table as diagnostics read it: whether it exists, its chains, and the elements
    /// of the plugin's sets, decoded, each with its owner comment ("" for none). Only reads: no lock, no
    /// batch, and a table that does not exist is reported as such.
    public func snapshot() throws(BackendError) -> [NFTablesSnapshot] {
        let reader = TableReader(socket: try open())
        var snapshots: [NFTablesSnapshot] = []
        for family in IPFamily.allCases {
            snapshots.append(try reader.contents(family).snapshot)
        }
        return snapshots
    }
}
