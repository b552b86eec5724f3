import Netlink
import Nftnl
import PortmapCore

/// One verb's batch being put together: the messages in the order the kernel applies them, each
/// with the nft command it stands for, which names it when the kernel refuses it.
struct BatchBuilder {
    private(set) var messages: [[UInt8]] = []
    private(set) var commands: [String] = []
    /// The sets this batch creates, with the ids its rules and elements name them by (numbered
    /// from 1 across the batch, as nft numbers them).
    private var createdSets: [IPFamily: [NFTablesElement.Set: UInt32]] = [:]
    private var nextSetID: UInt32 = 1

    var isEmpty: Bool { messages.isEmpty }

    /// The table every container shares, empty: what `NFTablesPlanner.script` declares, in nft's
    /// order (table, chains, sets, rules).
    mutating func createTable(_ family: IPFamily) {
        let layout = TableLayout(family)
        let table = NFTablesLayout.tableName(family)
        append(TableMessages.addTable(family), "add table \(table)")
        for chain in layout.chains {
            append(TableMessages.addChain(chain, family: family), "add chain \(table) \(chain.name)")
        }
        var ids: [NFTablesElement.Set: UInt32] = [:]
        for definition in layout.sets {
            ids[NFTablesElement.Set(rawValue: definition.name)!] = nextSetID
            append(TableMessages.addSet(definition, family: family, id: nextSetID), "add set \(table) \(definition.name)")
            nextSetID += 1
        }
        createdSets[family] = ids
        for rule in layout.rules {
            append(TableMessages.addRule(rule, family: family, setIDs: ids), "add rule \(table) \(rule.chain)")
        }
    }

    /// The deletions, then the additions, one element per message (as nft sends one `add element`
    /// command), so a refusal names its element. The previous table (`table`) only loses elements.
    mutating func apply(_ changes: ElementChanges, family: IPFamily, table: String = NFTablesLayout.table) {
        for element in changes.deletions {
            append(
                TableMessages.deleteElement(element, family: family, table: table),
                "delete element \(TableCheck.describe(element, in: family, table: table))")
        }
        for element in changes.additions {
            append(
                TableMessages.addElement(element, family: family, setID: createdSets[family]?[element.set]),
                "add element \(TableCheck.describe(element, in: family))")
        }
    }

    /// Expires `elements` of the plugin's table (`ElementExpiry`) instead of deleting them.
    mutating func expire(_ elements: [NFTablesElement], family: IPFamily) {
        for element in elements {
            append(TableMessages.expireElement(element, family: family), "expire element \(TableCheck.describe(element, in: family))")
        }
    }

    /// Deletes upstream's rules of a container (a takeover).
    mutating func delete(_ rules: [ForeignRule], family: IPFamily) {
        for rule in rules {
            append(
                TableMessages.deleteRule(rule, family: family),
                "delete rule \(NFTablesLayout.tableName(family, rule.table)) \(rule.chain) handle \(rule.handle) (comment \"\(rule.comment)\")")
        }
    }

    /// The kernel's refusal of this batch, each failure named by its command.
    func refusal(_ failures: [NetfilterBatchFailure]) -> BackendError {
        let named = failures.map { failure in
            "\(failure.message.map { commands[$0] } ?? "the batch"): \(failure.reason)"
        }
        return BackendError(.kernel, "nftables refused \(named[0]); nothing was changed", details: named.joined(separator: "; "))
    }

    private mutating func append(_ message: [UInt8], _ command: String) {
        messages.append(message)
        commands.append(command)
    }
}
