@testable import PortmapCore

/// Decodes a config the way the plugin does (stdin bytes → JSON → PortMapConfig).
func decodeConfig(_ json: String) throws(CNIError) -> PortMapConfig {
    try PortmapPlugin.decode(Array(json.utf8))
}

/// The plan rendered as the lines `iptables-save` would print for a table holding only it: built-in
/// chains first in kernel order, then user chains alphabetically, each chain's rules in order.
func saveLines(_ plan: IPTablesFamilyPlan) -> [String] {
    saveLines(plan.chains)
}

/// `saveLines` for any list of chains (the raw table's, for one).
func saveLines(_ planned: [IPTablesChain]) -> [String] {
    var chains: [String: [String]] = [:]
    for chain in planned {
        chains[chain.name, default: []] += chain.rules.map { $0.saveLine(chain: chain.name) }
        for entryChain in chain.entryChains {
            let lines = chain.entryRules.map { $0.saveLine(chain: entryChain) }
            chains[entryChain, default: []] = chain.prependEntry ? lines + chains[entryChain, default: []] : chains[entryChain, default: []] + lines
        }
    }
    let builtIn = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
    let order = builtIn + chains.keys.filter { !builtIn.contains($0) }.sorted()
    return order.flatMap { chains[$0] ?? [] }
}
