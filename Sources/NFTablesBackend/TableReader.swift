#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Netlink
import PortmapCore

/// Reads the plugin's tables through one socket, changing nothing: the generation, whether a
/// family's table exists, its chains, sets and elements, decoded.
struct TableReader {
    let socket: NetfilterSocket

    /// The ruleset generation, which a batch names so that the kernel refuses it once another
    /// batch has committed after this read.
    func generation() throws(BackendError) -> UInt32 {
        let replies = try query(NftnlMessages.getGeneration(), "read the nftables ruleset generation")
        guard let generation = replies.first.flatMap(NftnlReplies.generation) else {
            throw BackendError(.kernel, "nftables: the ruleset generation reply could not be read")
        }
        return generation
    }

    /// Whether `family` has the plugin's table (asked by name, so nothing else is listed).
    func tableExists(_ family: IPFamily) throws(BackendError) -> Bool {
        do {
            return !(try socket.query(NftnlMessages.getTable(family), operation: "look up table \(NFTablesLayout.tableName(family))")).isEmpty
        } catch where error.errno == ENOENT {
            return false
        } catch {
            throw BackendError(.kernel, "nftables: \(error)")
        }
    }

    /// The table as read for CHECK and diagnostics: chains, which of the plugin's sets it has, and
    /// their elements.
    func contents(_ family: IPFamily) throws(BackendError) -> TableContents {
        guard try tableExists(family) else { return TableContents(snapshot: NFTablesSnapshot(family: family, exists: false), sets: []) }
        let table = NFTablesLayout.tableName(family)
        let chains = try query(NftnlMessages.dumpChains(family), "list the chains of \(table)")
            .compactMap(NftnlReplies.chain).filter { $0.table == NFTablesLayout.table }.map(\.name)
        let names = Set(try query(NftnlMessages.dumpSets(family), "list the sets of \(table)").compactMap(NftnlReplies.setName))
        let sets = NFTablesElement.Set.allCases.filter { names.contains($0.rawValue) }
        let snapshot = NFTablesSnapshot(family: family, exists: true, chains: chains, elements: try elements(family, in: sets))
        return TableContents(snapshot: snapshot, sets: sets)
    }

    /// Every element of `sets` in `family`'s table, which must exist.
    func elements(_ family: IPFamily, in sets: [NFTablesElement.Set] = NFTablesElement.Set.allCases) throws(BackendError) -> [NFTablesElement] {
        var elements: [NFTablesElement] = []
        for set in sets {
            let name = "\(NFTablesLayout.tableName(family)) \(set.rawValue)"
            for message in try query(NftnlMessages.dumpElements(family, set), "list the elements of set \(name)") {
                for (bytes, comment) in NftnlReplies.elements(message) {
                    guard let element = ElementCodec.decode(bytes, set: set, family: family, owner: comment ?? "") else {
                        throw BackendError(.kernel, "nftables: set \(name) holds an element that is not of the plugin's type",
                                           details: "key of \(bytes.key.count) bytes; was the table changed by hand?")
                    }
                    elements.append(element)
                }
            }
        }
        return elements
    }

    private func query(_ request: [UInt8], _ operation: String) throws(BackendError) -> [[UInt8]] {
        do {
            return try socket.query(request, operation: operation)
        } catch {
            throw BackendError(.kernel, "nftables: \(error)")
        }
    }
}

/// A family's table as `TableReader.contents` read it: the diagnostics snapshot, and which of the
/// plugin's sets are there (a missing one has no elements to list).
struct TableContents {
    var snapshot: NFTablesSnapshot
    var sets: [NFTablesElement.Set]
}
