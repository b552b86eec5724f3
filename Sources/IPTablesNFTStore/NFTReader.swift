import IPTablesLayout
import Netlink
import Nftnl
import PortmapCore

/// The reads of one verb, through its socket: whether a table is there, one chain, one chain's
/// rules, a table's chain names. Nothing is listed that the verb does not name.
struct NFTReader {
    let socket: NetfilterSocket

    /// The ruleset generation a batch is bound to.
    func generation() throws(RuleTableError) -> UInt32 {
        let replies = try query(NftMessages.getGeneration(), "read the ruleset generation", family: .ipv4, table: "nat")
        guard let generation = replies.first.flatMap(NftReplies.generation) else {
            throw RuleTableError(
                family: .ipv4, operation: "read the ruleset generation", chain: nil, errno: Errno.protocolError.rawValue, message: "the reply could not be read")
        }
        return generation
    }

    func tableExists(_ table: String, family: IPFamily) throws(RuleTableError) -> Bool {
        try optional(NftMessages.getTable(table, family: family), "look up the table", family: family, table: table) != nil
    }

    /// The chain (its use count: how many rules jump to it), or nil when the table has no such
    /// chain.
    func chain(_ name: String, table: String, family: IPFamily) throws(RuleTableError) -> NftReplies.Chain? {
        let replies = try optional(NftMessages.getChain(table: table, name: name, family: family), "look up chain \(name)", family: family, table: table)
        return replies?.lazy.compactMap(NftReplies.chain).first
    }

    /// The rules of one chain, in order, with their handles.
    func rules(in chain: String, table: String, family: IPFamily) throws(RuleTableError) -> [NftRule] {
        try (optional(NftMessages.dumpRules(family, table: table, chain: chain), "list chain \(chain)", family: family, table: table) ?? [])
            .compactMap(NftReplies.rule)
    }

    /// Every chain of `family` (each table's, in the kernel's order) as (table, name).
    func chains(_ family: IPFamily) throws(RuleTableError) -> [(table: String, name: String)] {
        try query(NftMessages.dumpChains(family), "list the chains", family: family, table: "nat")
            .compactMap(NftReplies.chain).map { ($0.table, $0.name) }
    }

    /// The reply, or nil when the kernel answers ENOENT (no such table or chain).
    private func optional(_ request: [UInt8], _ operation: String, family: IPFamily, table: String) throws(RuleTableError) -> [[UInt8]]? {
        do {
            return try query(request, operation, family: family, table: table)
        } catch let error where error.errno == .noSuchFileOrDirectory {
            return nil
        }
    }

    /// A dump the kernel interrupted because another batch committed while it ran (EINTR, from
    /// NLM_F_DUMP_INTR) is read again: the batch the verb sends is bound to the generation read
    /// first, so a verb that read across a commit is refused and redone whole anyway.
    private func query(_ request: [UInt8], _ operation: String, family: IPFamily, table: String) throws(RuleTableError) -> [[UInt8]] {
        var attempts = 0
        while true {
            do {
                return try socket.query(request, operation: operation)
            } catch let error where error.errno == .interruptedSystemCall && attempts < Self.interruptedDumpRetries {
                attempts += 1
            } catch {
                throw RuleTableError(family: family, table: table, operation: operation, chain: nil, errno: error.errno.rawValue, message: error.message)
            }
        }
    }

    static let interruptedDumpRetries = 100
}
