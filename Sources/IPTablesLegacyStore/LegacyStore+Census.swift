import IPTablesLayout
import PortmapCore

extension LegacyStore {
    /// What the legacy tables hold: chain names of each family's nat and mangle table, read only
    /// where /proc lists the table (opening a missing one would create it). The store is usable
    /// when the kernel has x_tables loaded or built in, or installed as a module; where that
    /// cannot be told it counts as not usable, so a node in doubt gets iptables-nft, the default
    /// of every current distribution.
    package func census() -> StoreCensus {
        let loaded = KernelTables.Offer(.ipv4).hasXTables
        var census = StoreCensus(usable: loaded || KernelModules().availability(ofAny: ["ip_tables"]) == .available)
        guard loaded else { return census }
        for family in KernelTables.families {
            for table in ["nat", "mangle"] where KernelTables.exists(table, family: family) {
                guard let names = try? XTablesTable(table: table, family: family).chainNames() else { continue }
                census.record(table: table, chains: names)
            }
        }
        return census
    }
}
