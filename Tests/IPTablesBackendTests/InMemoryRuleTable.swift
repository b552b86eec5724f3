import PortmapCore

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

/// A nat table in memory, behaving like libiptc where the reconciler relies on it: built-in chains
/// always exist, a chain must exist before rules go in, a referenced chain cannot be deleted.
final class InMemoryRuleTable: RuleTable {
    let family: IPFamily
    let name = "nat"
    private(set) var chains: [String: [IPTablesRule]]
    private(set) var edits = 0

    static let builtIn = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]

    init(family: IPFamily = .ipv4) {
        self.family = family
        chains = Dictionary(uniqueKeysWithValues: Self.builtIn.map { ($0, []) })
    }

    func chainExists(_ chain: String) -> Bool { chains[chain] != nil }

    func rules(in chain: String) throws(RuleTableError) -> [IPTablesRule] {
        guard let rules = chains[chain] else { throw missing(chain) }
        return rules
    }

    func rules(in chain: String, targeting targets: Set<String>) throws(RuleTableError) -> [(index: Int, rule: IPTablesRule)] {
        try rules(in: chain).enumerated().filter { targets.contains($0.element.target.targetName) }.map { ($0.offset, $0.element) }
    }

    func createChain(_ chain: String) throws(RuleTableError) {
        guard chains[chain] == nil else { throw failure("create chain", chain, "chain already exists") }
        chains[chain] = []
        edits += 1
    }

    func append(_ rule: IPTablesRule, to chain: String) throws(RuleTableError) {
        try insert(rule, into: chain, at: try rules(in: chain).count)
    }

    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(RuleTableError) {
        guard chains[chain] != nil else { throw missing(chain) }
        if let target = rule.target.jumpedChain, chains[target] == nil { throw missing(target) }
        chains[chain]!.insert(rule, at: index)
        edits += 1
    }

    func deleteRule(in chain: String, at index: Int) throws(RuleTableError) {
        guard chains[chain]?.indices.contains(index) == true else { throw failure("delete rule from", chain, "index out of range") }
        chains[chain]!.remove(at: index)
        edits += 1
    }

    func flush(_ chain: String) throws(RuleTableError) {
        guard chains[chain] != nil else { throw missing(chain) }
        chains[chain] = []
        edits += 1
    }

    func deleteChain(_ chain: String) throws(RuleTableError) {
        guard chains[chain] != nil else { throw missing(chain) }
        guard chains.values.allSatisfy({ $0.allSatisfy { $0.target.jumpedChain != chain } }) else {
            throw failure("delete chain", chain, "Too many links")
        }
        chains[chain] = nil
        edits += 1
    }

    func references(to chain: String) throws(RuleTableError) -> Int {
        guard chains[chain] != nil else { throw missing(chain) }
        return chains.values.joined().filter { $0.target.jumpedChain == chain }.count
    }

    /// The table as `iptables-save` orders it.
    var saveLines: [String] {
        let order = Self.builtIn + chains.keys.filter { !Self.builtIn.contains($0) }.sorted()
        return order.flatMap { name in chains[name]!.map { $0.saveLine(chain: name) } }
    }

    private func missing(_ chain: String) -> RuleTableError { failure("use chain", chain, "No chain/target/match by that name") }

    private func failure(_ operation: String, _ chain: String, _ message: String) -> RuleTableError {
        RuleTableError(family: family, operation: operation, chain: chain, errno: 2, message: message)
    }
}
