import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A table (nat, raw) as the reconciler edits it: chains of decoded rules. The kernel implementation
/// works on a libiptc handle; unit tests use an in-memory one, so the reconcile logic (what ADD,
/// CHECK and DEL change) is tested without root.
protocol RuleTable: AnyObject {
    var family: IPFamily { get }
    /// nat or raw, for messages.
    var name: String { get }
    func chainExists(_ chain: String) -> Bool
    func rules(in chain: String) throws(XTablesError) -> [IPTablesRule]
    /// The rules of `chain` whose target is named in `targets` (`IPTablesTarget.libiptcName`),
    /// with their positions, decoding only those: a planned rule can only equal a rule with its
    /// own target, and on a node with a thousand pods CNI-HOSTPORT-DNAT holds thousands of other
    /// containers' jumps.
    func rules(in chain: String, targeting targets: Set<String>) throws(XTablesError) -> [(index: Int, rule: IPTablesRule)]
    func createChain(_ chain: String) throws(XTablesError)
    func append(_ rule: IPTablesRule, to chain: String) throws(XTablesError)
    /// Inserts before the rule at `index` (0-based).
    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(XTablesError)
    /// Deletes the rule at `index` (0-based).
    func deleteRule(in chain: String, at index: Int) throws(XTablesError)
    func flush(_ chain: String) throws(XTablesError)
    func deleteChain(_ chain: String) throws(XTablesError)
    /// How many rules, in any chain, jump to `chain`.
    func references(to chain: String) throws(XTablesError) -> Int
}

/// `RuleTable` over a libiptc handle, encoding and decoding entries with `EntryCodec`.
final class KernelRuleTable: RuleTable {
    let table: XTablesTable
    var family: IPFamily { table.family }
    var name: String { table.name }

    init(_ table: XTablesTable) {
        self.table = table
    }

    func chainExists(_ chain: String) -> Bool { table.chainExists(chain) }

    func rules(in chain: String) throws(XTablesError) -> [IPTablesRule] {
        try table.entries(in: chain).map { decode($0.bytes, $0.target) }
    }

    private func decode(_ bytes: [UInt8], _ target: String) -> IPTablesRule {
        EntryCodec.decode(bytes[...], targetName: target, family: family)
            ?? IPTablesRule(target: .other(name: "(undecodable entry)", revision: 0, data: bytes))
    }

    func rules(in chain: String, targeting targets: Set<String>) throws(XTablesError) -> [(index: Int, rule: IPTablesRule)] {
        try table.entries(in: chain, targeting: targets).map { entry in (entry.index, decode(entry.bytes, entry.target)) }
    }

    func createChain(_ chain: String) throws(XTablesError) { try table.createChain(chain) }

    func append(_ rule: IPTablesRule, to chain: String) throws(XTablesError) {
        try table.append(try encode(rule, chain), to: chain)
    }

    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(XTablesError) {
        try table.insert(try encode(rule, chain), into: chain, at: index)
    }

    func deleteRule(in chain: String, at index: Int) throws(XTablesError) { try table.deleteEntry(in: chain, at: index) }

    func flush(_ chain: String) throws(XTablesError) { try table.flush(chain) }

    func deleteChain(_ chain: String) throws(XTablesError) { try table.deleteChain(chain) }

    func references(to chain: String) throws(XTablesError) -> Int { try table.references(to: chain) }

    private func encode(_ rule: IPTablesRule, _ chain: String) throws(XTablesError) -> [UInt8] {
        do {
            return try EntryCodec.encode(rule, family: family)
        } catch {
            throw XTablesError(family: family, table: name, operation: "encode rule for", chain: chain, errno: EINVAL, message: error.message)
        }
    }
}

extension IPTablesTarget {
    /// What libiptc calls this target (`iptc_get_target`): the chain of a jump, the verdict, or
    /// the target extension's name.
    var libiptcName: String {
        switch self {
        case .jump(let name), .verdict(let name), .other(let name, _, _): return name
        case .dnat: return "DNAT"
        case .setMark: return "MARK"
        case .masquerade: return "MASQUERADE"
        }
    }
}
