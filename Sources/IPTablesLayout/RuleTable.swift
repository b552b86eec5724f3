import PortmapCore

/// A table (nat, raw) as the reconciler edits it: chains of decoded rules. Each store implements
/// it (over a libiptc handle, or an nf_tables read with a batch of edits); unit tests use an
/// in-memory one, so the reconcile logic (what ADD, CHECK and DEL change) is tested without root.
package protocol RuleTable: AnyObject {
    var family: IPFamily { get }
    /// nat or raw, for messages.
    var name: String { get }
    func chainExists(_ chain: String) -> Bool
    func rules(in chain: String) throws(RuleTableError) -> [IPTablesRule]
    /// The rules of `chain` whose target is named in `targets` (`IPTablesTarget.targetName`),
    /// with their positions, decoding only those: a planned rule can only equal a rule with its
    /// own target, and on a node with a thousand pods CNI-HOSTPORT-DNAT holds thousands of other
    /// containers' jumps.
    func rules(in chain: String, targeting targets: Set<String>) throws(RuleTableError) -> [(index: Int, rule: IPTablesRule)]
    func createChain(_ chain: String) throws(RuleTableError)
    func append(_ rule: IPTablesRule, to chain: String) throws(RuleTableError)
    /// Inserts before the rule at `index` (0-based).
    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(RuleTableError)
    /// Deletes the rule at `index` (0-based).
    func deleteRule(in chain: String, at index: Int) throws(RuleTableError)
    func flush(_ chain: String) throws(RuleTableError)
    func deleteChain(_ chain: String) throws(RuleTableError)
    /// How many rules, in any chain, jump to `chain`.
    func references(to chain: String) throws(RuleTableError) -> Int
}

extension IPTablesTarget {
    /// The target's name as both stores report it (libiptc's `iptc_get_target`, iptables-nft's
    /// reading of a rule): the chain of a jump, the verdict, or the target extension's name.
    package var targetName: String {
        switch self {
        case .jump(let name), .verdict(let name), .other(let name, _, _): return name
        case .dnat: return "DNAT"
        case .setMark: return "MARK"
        case .masquerade: return "MASQUERADE"
        }
    }
}
