import IPTablesLayout
import PortmapCore
import Snapshots

extension LegacyStore {
    /// Each family's legacy nat table as `hostports` analyses it: every chain with its rules
    /// decoded, in the kernel's order. A table that does not exist is reported as such, not opened
    /// (opening it would create it), and nothing is locked or committed: this only reads.
    package func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot] {
        var snapshots: [TableSnapshot] = []
        for family in KernelTables.families {
            guard KernelTables.exists("nat", family: family) else {
                snapshots.append(.nat(NatTableSnapshot(family: family, exists: false)))
                continue
            }
            let table = KernelRuleTable(try open(family, "nat"))
            var chains: [NatTableSnapshot.Chain] = []
            for name in table.table.chainNames() {
                guard natChains.contains(name) else {
                    chains.append(NatTableSnapshot.Chain(name: name, rules: [], rulesRead: false))
                    continue
                }
                do {
                    chains.append(NatTableSnapshot.Chain(name: name, rules: try table.rules(in: name)))
                } catch {
                    throw BackendError(.kernel, error.description)
                }
            }
            snapshots.append(.nat(NatTableSnapshot(family: family, exists: true, chains: chains)))
        }
        return snapshots
    }
}
