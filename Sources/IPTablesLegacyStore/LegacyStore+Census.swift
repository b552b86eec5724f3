import IPTablesLayout
import ModuleTree
import PortmapCore

extension LegacyStore {
    /// Whether the kernel has legacy x_tables loaded or built in, or installed as a module; where
    /// that cannot be told, not.
    package func isUsable() -> Bool {
        KernelTables.hasXTables || KernelModules().availability(ofAny: ["ip_tables"]) == .available
    }

    /// Whether any family's nat or mangle table is instantiated (from /proc, reading no table):
    /// only a legacy iptables user makes one, and without one the store holds no chain at all.
    package func inUse() -> Bool {
        KernelTables.families.contains { family in ["nat", "mangle"].contains { KernelTables.exists($0, family: family) } }
    }

    /// What the legacy tables hold: chain names of each family's nat and mangle table, read only
    /// where /proc lists the table (opening a missing one would create it). A store whose
    /// usability cannot be told counts as not usable, so a node in doubt gets iptables-nft, the
    /// default of every current distribution.
    package func census() -> StoreCensus {
        guard KernelTables.hasXTables else { return StoreCensus(usable: isUsable()) }
        var census = StoreCensus(usable: true)
        for family in KernelTables.families {
            for table in ["nat", "mangle"] where KernelTables.exists(table, family: family) {
                guard let names = try? XTablesTable(table: table, family: family).chainNames() else { continue }
                census.record(table: table, chains: names)
            }
        }
        return census
    }
}
