import Nftnl
import PortmapCore

/// The nftables backend's requests and batch messages: `Nftnl`'s, for its table and its
/// elements, with the flags nft 1.0.6 sends them with.
enum TableMessages {
    static func getGeneration() -> [UInt8] { NftMessages.getGeneration() }

    /// The plugin's table (or `table`): answered by the table, or ENOENT.
    static func getTable(_ family: IPFamily, _ table: String = NFTablesLayout.table) -> [UInt8] { NftMessages.getTable(table, family: family) }

    /// Every table's chains of `family` (the kernel filters by family only).
    static func dumpChains(_ family: IPFamily) -> [UInt8] { NftMessages.dumpChains(family) }

    static func dumpSets(_ family: IPFamily, _ table: String = NFTablesLayout.table) -> [UInt8] { NftMessages.dumpSets(family, table: table) }

    /// The elements of one set; ENOENT when there is no such set.
    static func dumpElements(_ family: IPFamily, _ set: NFTablesElement.Set, _ table: String = NFTablesLayout.table) -> [UInt8] {
        NftMessages.dumpElements(family, table: table, set: set.rawValue)
    }

    /// The rules of one chain of `table`; ENOENT when there is no such chain.
    static func dumpRules(_ family: IPFamily, _ table: String, chain: String) -> [UInt8] {
        NftMessages.dumpRules(family, table: table, chain: chain)
    }

    /// One element, named as `deleteElement` names it: answered by the element that holds the key
    /// (in an interval set, whichever holds the key's first address, whatever its range), or
    /// ENOENT.
    static func getElement(_ element: NFTablesElement, family: IPFamily) -> [UInt8] {
        NftMessages.getElement(family, table: NFTablesLayout.table, set: element.set.rawValue, name: name(of: element))
    }

    static func addTable(_ family: IPFamily) -> [UInt8] {
        NftMessages.newTable(NFTablesLayout.table, family: family, flags: [], tableFlags: 0)
    }

    static func addChain(_ chain: NftChain, family: IPFamily) -> [UInt8] {
        NftMessages.newChain(chain, family: family, flags: .create)
    }

    static func addSet(_ definition: NftSet, family: IPFamily, id: UInt32) -> [UInt8] {
        NftMessages.newSet(definition, family: family, id: id)
    }

    /// The rule, appended to its chain; `setIDs` name the sets created in the same batch.
    static func addRule(_ rule: NftRule, family: IPFamily, setIDs: [NFTablesElement.Set: UInt32]) -> [UInt8] {
        NftMessages.newRule(
            rule, family: family, flags: [.create, .append], setIDs: Dictionary(uniqueKeysWithValues: setIDs.map { ($0.rawValue, $1) }))
    }

    /// One element with its owner as comment; `setID` when its set is created in the same batch.
    static func addElement(_ element: NFTablesElement, family: IPFamily, setID: UInt32?) -> [UInt8] {
        NftMessages.newElement(
            family, table: NFTablesLayout.table, set: element.set.rawValue, setID: setID, ElementCodec.encode(element), comment: element.owner)
    }

    /// The element as it is, with an expiration: an add of an element that is there (nft's
    /// `add element ... { <key> timeout 1s expires 1ms ... }`), which the kernel (6.12 and later)
    /// applies as an update of its timeout, so that it expires within a tick.
    static func expireElement(_ element: NFTablesElement, family: IPFamily) -> [UInt8] {
        var bytes = ElementCodec.encode(element)
        bytes.expiration = ElementExpiry.milliseconds
        return NftMessages.newElement(family, table: NFTablesLayout.table, set: element.set.rawValue, setID: nil, bytes, comment: element.owner)
    }

    /// One element, named by its key, and the end of its range unless that is the key itself (a
    /// single address), as nft names it.
    static func deleteElement(_ element: NFTablesElement, family: IPFamily, table: String = NFTablesLayout.table) -> [UInt8] {
        NftMessages.deleteElement(family, table: table, set: element.set.rawValue, name: name(of: element))
    }

    /// One rule of `table`, by its handle.
    static func deleteRule(_ rule: ForeignRule, family: IPFamily) -> [UInt8] {
        NftMessages.deleteRule(table: rule.table, chain: rule.chain, handle: rule.handle, family: family)
    }

    /// What names an element to the kernel: its key, and the end of its range unless that is the
    /// key itself (a single address), without its value.
    private static func name(of element: NFTablesElement) -> ElementBytes {
        var bytes = ElementCodec.encode(element)
        bytes.data = nil
        if bytes.keyEnd == bytes.key { bytes.keyEnd = nil }
        return bytes
    }
}
