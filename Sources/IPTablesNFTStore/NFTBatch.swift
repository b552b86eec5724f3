import IPTablesLayout
import Netlink
import Nftnl
import PortmapCore

/// One verb's nf_tables batch across both families and tables: the messages in the order the
/// kernel applies them, each with the iptables command it stands for, which names it when the
/// kernel refuses it.
final class NFTBatch {
    private(set) var messages: [[UInt8]] = []
    private(set) var commands: [String] = []
    private var createdTables: Set<String> = []

    var isEmpty: Bool { messages.isEmpty }

    /// NEWTABLE, as iptables-nft sends it (NLM_F_CREATE, no flags attribute); once per table.
    func createTable(_ table: String, family: IPFamily) {
        let key = "\(family) \(table)"
        guard createdTables.insert(key).inserted else { return }
        messages.append(NftMessages.newTable(table, family: family, flags: .create))
        commands.append("\(Self.tool(family)) -t \(table): create the table")
    }

    func add(_ message: [UInt8], _ command: String, in table: NFTRuleTable) {
        messages.append(message)
        commands.append("\(Self.tool(table.family)) -t \(table.name) \(command)")
    }

    /// The kernel's refusal of this batch, each failure named by its command.
    func refusal(_ failures: [NetfilterBatchFailure]) -> BackendError {
        let named = failures.map { failure in
            "\(failure.message.map { commands[$0] } ?? "the batch"): \(failure.reason)"
        }
        return BackendError(.kernel, "iptables-nft tables: the kernel refused \(named[0]); nothing was changed", details: named.joined(separator: "; "))
    }

    private static func tool(_ family: IPFamily) -> String { family == .ipv4 ? "iptables" : "ip6tables" }
}
