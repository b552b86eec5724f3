import IPTablesLayout
import Netlink
import Nftnl
import PortmapCore

/// One table (nat, raw) of one family in the nf_tables tables iptables-nft manages, as the
/// reconciler edits it: each chain is read when first asked for (one GETRULE dump of that chain:
/// a verb's cost does not grow with the chains it does not touch, kube-proxy's included), and
/// every edit goes into the verb's batch and into this copy, so later reads in the same verb see
/// it. A chain is not read at all where the answer is known without it: rules jumping to a chain
/// nothing references (the kernel counts every jump), and appends, which need no position: a
/// fresh ADD so never reads `CNI-HOSTPORT-DNAT`, whose length grows with the node's pods.
/// Created as iptables-nft creates it: the table when its first object is added, a base
/// chain (hook, priority, policy accept) when its first rule is.
final class NFTRuleTable: RuleTable {
    let family: IPFamily
    let name: String
    private let reader: NFTReader
    private let batch: NFTBatch
    /// Whether the kernel has the table, or this batch creates it.
    private var tableThere: Bool
    private var chains: [String: Chain] = [:]

    /// A chain as known to this verb: nil rules until read, and what this batch appended to it
    /// before then (after the kernel's rules once read).
    private struct Chain {
        var inKernel: Bool
        var exists: Bool
        /// Rules jumping to it, as the kernel counted them when read, plus this batch's changes.
        var references: Int
        var rules: [Rule]?
        var appended: [Rule] = []
    }

    /// A rule: its handle when it is in the kernel (nil: added by this batch), its expressions, and
    /// its decoding once asked for.
    private struct Rule {
        var handle: UInt64?
        var expressions: [NftExpression]
        var decoded: IPTablesRule?
    }

    init(family: IPFamily, name: String, reader: NFTReader, batch: NFTBatch) throws(RuleTableError) {
        self.family = family
        self.name = name
        self.reader = reader
        self.batch = batch
        tableThere = try reader.tableExists(name, family: family)
    }

    func chainExists(_ chain: String) -> Bool {
        if Self.baseChain(chain, of: name) != nil { return true }
        return (try? state(of: chain).exists) ?? false
    }

    func rules(in chain: String) throws(RuleTableError) -> [IPTablesRule] {
        try loadedRules(chain).indices.map { index throws(RuleTableError) in try decoded(chain, index) }
    }

    func rules(in chain: String, targeting targets: Set<String>) throws(RuleTableError) -> [(index: Int, rule: IPTablesRule)] {
        var anyReferenced = false
        for target in targets where !(try unreferenced(target)) {
            anyReferenced = true
            break
        }
        guard anyReferenced else { return [] }
        var found: [(index: Int, rule: IPTablesRule)] = []
        for (index, rule) in try loadedRules(chain).enumerated() {
            guard let target = RuleExpressions.targetName(of: rule.expressions), targets.contains(target) else { continue }
            found.append((index, try decoded(chain, index)))
        }
        return found
    }

    func createChain(_ chain: String) throws(RuleTableError) {
        try ensureTable()
        batch.add(NftMessages.newChain(NftChain(table: name, name: chain), family: family, flags: .exclusive), "-N \(chain)", in: self)
        chains[chain] = Chain(inKernel: false, exists: true, references: 0, rules: [])
    }

    func append(_ rule: IPTablesRule, to chain: String) throws(RuleTableError) {
        try add(rule, to: chain, at: nil)
    }

    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(RuleTableError) {
        try add(rule, to: chain, at: index)
    }

    func deleteRule(in chain: String, at index: Int) throws(RuleTableError) {
        let rules = try loadedRules(chain)
        guard rules.indices.contains(index), let handle = rules[index].handle else {
            throw failure("delete rule \(index + 1) of", chain, "it is not a rule the kernel holds")
        }
        batch.add(NftMessages.deleteRule(table: name, chain: chain, handle: handle, family: family), "-D \(chain) \(index + 1)", in: self)
        if let target = RuleExpressions.targetName(of: rules[index].expressions) { adjustReferences(to: target, by: -1) }
        chains[chain]?.rules?.remove(at: index)
    }

    func flush(_ chain: String) throws(RuleTableError) {
        let rules = try loadedRules(chain)
        guard !rules.isEmpty else { return }
        batch.add(NftMessages.deleteRule(table: name, chain: chain, handle: nil, family: family), "-F \(chain)", in: self)
        for rule in rules {
            if let target = RuleExpressions.targetName(of: rule.expressions) { adjustReferences(to: target, by: -1) }
        }
        chains[chain]?.rules = []
    }

    func deleteChain(_ chain: String) throws(RuleTableError) {
        guard try state(of: chain).exists else { return }
        batch.add(NftMessages.deleteChain(table: name, name: chain, family: family), "-X \(chain)", in: self)
        chains[chain]?.exists = false
    }

    func references(to chain: String) throws(RuleTableError) -> Int {
        try state(of: chain).references
    }

    // MARK: - Reading

    private func state(of chain: String) throws(RuleTableError) -> Chain {
        if let known = chains[chain] { return known }
        var known = Chain(inKernel: false, exists: false, references: 0, rules: [])
        if tableThere, let read = try reader.chain(chain, table: name, family: family) {
            known = Chain(inKernel: true, exists: true, references: Int(read.use), rules: nil)
        }
        chains[chain] = known
        return known
    }

    private func loadedRules(_ chain: String) throws(RuleTableError) -> [Rule] {
        let known = try state(of: chain)
        if let rules = known.rules { return rules }
        let read = try reader.rules(in: chain, table: name, family: family).map { Rule(handle: $0.handle, expressions: $0.expressions) }
        let rules = read + known.appended
        chains[chain]?.rules = rules
        chains[chain]?.appended = []
        return rules
    }

    /// Whether no rule can jump to `target`: a chain (in the kernel or created by this batch)
    /// that nothing references. A built-in target (DNAT, MARK) is not a chain and never is.
    private func unreferenced(_ target: String) throws(RuleTableError) -> Bool {
        let known = try state(of: target)
        return known.exists && known.references == 0
    }

    private func decoded(_ chain: String, _ index: Int) throws(RuleTableError) -> IPTablesRule {
        let rule = try loadedRules(chain)[index]
        if let decoded = rule.decoded { return decoded }
        let decoded = RuleExpressions.decode(rule.expressions, family: family)
        chains[chain]?.rules?[index].decoded = decoded
        return decoded
    }

    // MARK: - Editing

    private func add(_ rule: IPTablesRule, to chain: String, at index: Int?) throws(RuleTableError) {
        try ensureTable()
        try ensureBaseChain(chain)
        let encoded: (expressions: [NftExpression], compat: NftRule.Compat)
        do {
            encoded = try RuleExpressions.encode(rule, family: family)
        } catch {
            throw failure("encode rule for", chain, error.message)
        }
        let message = NftRule(table: name, chain: chain, expressions: encoded.expressions, compat: encoded.compat)
        let line = rule.saveLine(chain: chain)
        let added = Rule(handle: nil, expressions: encoded.expressions, decoded: rule)
        defer { if case .jump(let target) = rule.target { adjustReferences(to: target, by: 1) } }
        guard let index else {
            _ = try state(of: chain)
            batch.add(NftMessages.newRule(message, family: family, flags: [.create, .append]), line, in: self)
            if chains[chain]?.rules != nil { chains[chain]?.rules?.append(added) } else { chains[chain]?.appended.append(added) }
            return
        }
        var rules = try loadedRules(chain)
        switch index {
        case 0:
            batch.add(NftMessages.newRule(message, family: family, flags: .create), line.replacingFirst("-A", with: "-I"), in: self)
            rules.insert(added, at: 0)
        default:
            guard rules.indices.contains(index), let handle = rules[index].handle else {
                throw failure("insert a rule at \(index + 1) into", chain, "there is no rule the kernel holds there")
            }
            batch.add(
                NftMessages.newRule(message, family: family, flags: .create, position: handle), line.replacingFirst("-A", with: "-I"), in: self)
            rules.insert(added, at: index)
        }
        chains[chain]?.rules = rules
    }

    /// Keeps the count of jumps to `chain` (read from the kernel first, if not yet) true to this
    /// batch's edits, as GC asks for it after removing jumps.
    private func adjustReferences(to chain: String, by delta: Int) {
        if chains[chain] == nil { _ = try? state(of: chain) }
        chains[chain]?.references += delta
    }

    private func ensureTable() throws(RuleTableError) {
        guard !tableThere else { return }
        batch.createTable(name, family: family)
        tableThere = true
    }

    /// Creates the base chain `chain` of this table when it is missing, as iptables-nft does
    /// before a chain's first rule.
    private func ensureBaseChain(_ chain: String) throws(RuleTableError) {
        guard let hook = Self.baseChain(chain, of: name), !(try state(of: chain).exists) else { return }
        batch.add(NftMessages.newChain(NftChain(table: name, name: chain, hook: hook), family: family, flags: .create), ":\(chain)", in: self)
        chains[chain] = Chain(inKernel: false, exists: true, references: 0, rules: [])
    }

    private func failure(_ operation: String, _ chain: String, _ message: String) -> RuleTableError {
        RuleTableError(family: family, table: name, operation: operation, chain: chain, errno: Errno.invalidArgument.rawValue, message: message)
    }

    /// iptables-nft's base chains: their hooks and priorities (as `iptables-nft` 1.8.9 creates
    /// them, `nft_chain_builtin_init`), nil for a user chain.
    static func baseChain(_ chain: String, of table: String) -> NftHook? {
        switch (table, chain) {
        case ("nat", "PREROUTING"): NftHook(type: "nat", number: NftConstants.hookPrerouting, priority: NftConstants.priorityNATDestination)
        case ("nat", "INPUT"): NftHook(type: "nat", number: NftConstants.hookInput, priority: NftConstants.priorityNATSource)
        case ("nat", "OUTPUT"): NftHook(type: "nat", number: NftConstants.hookOutput, priority: NftConstants.priorityNATDestination)
        case ("nat", "POSTROUTING"): NftHook(type: "nat", number: NftConstants.hookPostrouting, priority: NftConstants.priorityNATSource)
        case ("raw", "PREROUTING"): NftHook(type: "filter", number: NftConstants.hookPrerouting, priority: NftConstants.priorityRaw)
        case ("raw", "OUTPUT"): NftHook(type: "filter", number: NftConstants.hookOutput, priority: NftConstants.priorityRaw)
        default: nil
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
