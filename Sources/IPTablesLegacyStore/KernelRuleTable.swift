import IPTablesLayout
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `RuleTable` over a libiptc handle, encoding and decoding entries with `EntryCodec`.
final class KernelRuleTable: RuleTable {
    let table: XTablesTable
    var family: IPFamily { table.family }
    var name: String { table.name }

    init(_ table: XTablesTable) {
        self.table = table
    }

    func chainExists(_ chain: String) -> Bool { table.chainExists(chain) }

    func rules(in chain: String) throws(RuleTableError) -> [IPTablesRule] {
        try table.entries(in: chain).map { decode($0.bytes, $0.target) }
    }

    private func decode(_ bytes: [UInt8], _ target: String) -> IPTablesRule {
        EntryCodec.decode(bytes[...], targetName: target, family: family)
            ?? IPTablesRule(target: .other(name: "(undecodable entry)", revision: 0, data: bytes))
    }

    func rules(in chain: String, targeting targets: Set<String>) throws(RuleTableError) -> [(index: Int, rule: IPTablesRule)] {
        try table.entries(in: chain, targeting: targets).map { entry in (entry.index, decode(entry.bytes, entry.target)) }
    }

    func createChain(_ chain: String) throws(RuleTableError) { try table.createChain(chain) }

    func append(_ rule: IPTablesRule, to chain: String) throws(RuleTableError) {
        try table.append(try encode(rule, chain), to: chain)
    }

    func insert(_ rule: IPTablesRule, into chain: String, at index: Int) throws(RuleTableError) {
        try table.insert(try encode(rule, chain), into: chain, at: index)
    }

    func deleteRule(in chain: String, at index: Int) throws(RuleTableError) { try table.deleteEntry(in: chain, at: index) }

    func flush(_ chain: String) throws(RuleTableError) { try table.flush(chain) }

    func deleteChain(_ chain: String) throws(RuleTableError) { try table.deleteChain(chain) }

    func references(to chain: String) throws(RuleTableError) -> Int { try table.references(to: chain) }

    private func encode(_ rule: IPTablesRule, _ chain: String) throws(RuleTableError) -> [UInt8] {
        do {
            return try EntryCodec.encode(rule, family: family)
        } catch {
            throw RuleTableError(family: family, table: name, operation: "encode rule for", chain: chain, errno: EINVAL, message: error.message)
        }
    }
}
