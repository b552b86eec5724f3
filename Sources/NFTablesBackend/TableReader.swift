import Netlink
import Nftnl
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads the plugin's tables through one socket, changing nothing: the generation, whether a
/// family's table exists, its chains, sets and elements, decoded, or only the elements under
/// given keys; and in the previous table, the plugin's old elements and upstream's rules.
struct TableReader {
    let socket: NetfilterSocket

    /// The ruleset generation, which a batch names so that the kernel refuses it once another
    /// batch has committed after this read.
    func generation() throws(BackendError) -> UInt32 {
        let replies = try query(TableMessages.getGeneration(), "read the nftables ruleset generation")
        guard let generation = replies.first.flatMap(NftReplies.generation) else {
            throw BackendError(.kernel, "nftables: the ruleset generation reply could not be read")
        }
        return generation
    }

    /// Whether `family` has the plugin's table, or `table` (asked by name, so nothing else is
    /// listed).
    func tableExists(_ family: IPFamily, _ table: String = NFTablesLayout.table) throws(BackendError) -> Bool {
        !(try queryUnlessMissing(TableMessages.getTable(family, table), "look up table \(NFTablesLayout.tableName(family, table))")).isEmpty
    }

    /// Which of the plugin's sets `table` of `family` has: all of them in the plugin's table, none
    /// in upstream's layout, which the previous table may hold instead of (or beside) ours.
    func sets(_ family: IPFamily, _ table: String) throws(BackendError) -> [NFTablesElement.Set] {
        let names = Set(try setTypes(family, table).map(\.name))
        return NFTablesElement.Set.allCases.filter { names.contains($0.rawValue) }
    }

    /// The type of every set in `table` (the plugin's) of `family`, which must exist.
    func setTypes(_ family: IPFamily, _ table: String = NFTablesLayout.table) throws(BackendError) -> [NftReplies.SetType] {
        try query(TableMessages.dumpSets(family, table), "list the sets of \(NFTablesLayout.tableName(family, table))").compactMap(NftReplies.setType)
    }

    /// The rules of upstream's table (`UpstreamNFTablesLayout`) in `family` whose comment is
    /// `containerID`, from the chains holding containers' rules; a missing chain has none.
    func upstreamRules(_ family: IPFamily, containerID: String) throws(BackendError) -> [ForeignRule] {
        try upstreamContainerRules(family).compactMap { rule in
            guard rule.comment == containerID, let handle = rule.handle else { return nil }
            return ForeignRule(table: UpstreamNFTablesLayout.table, chain: rule.chain, handle: handle, comment: containerID)
        }
    }

    /// Upstream's table of `family` for diagnostics: its chains and its container rules decoded.
    func upstreamSnapshot(_ family: IPFamily) throws(BackendError) -> UpstreamNFTablesSnapshot {
        let table = UpstreamNFTablesLayout.table
        guard try tableExists(family, table) else { return UpstreamNFTablesSnapshot(family: family, exists: false) }
        let chains = try query(TableMessages.dumpChains(family), "list the chains of \(NFTablesLayout.tableName(family, table))")
            .compactMap(NftReplies.chain).filter { $0.table == table }.map(\.name)
        let rules = try upstreamContainerRules(family).map { UpstreamRuleDecoder.decode($0, family: family) }
        return UpstreamNFTablesSnapshot(family: family, exists: true, chains: chains, rules: rules)
    }

    /// Every rule of upstream's container chains in `family`, chain by chain (a missing chain or
    /// table has none).
    private func upstreamContainerRules(_ family: IPFamily) throws(BackendError) -> [NftRule] {
        let table = UpstreamNFTablesLayout.table
        var rules: [NftRule] = []
        for chain in UpstreamNFTablesLayout.containerChains {
            rules += try queryUnlessMissing(
                TableMessages.dumpRules(family, table, chain: chain), "list chain \(NFTablesLayout.tableName(family, table)) \(chain)"
            ).compactMap(NftReplies.rule)
        }
        return rules
    }

    /// The table as read for CHECK and diagnostics: chains, which of the plugin's sets it has, and
    /// their elements; with `only`, just what the table holds under those elements' keys (CHECK:
    /// its cost then does not grow with the pods).
    func contents(_ family: IPFamily, only: [NFTablesElement]? = nil) throws(BackendError) -> TableContents {
        guard try tableExists(family) else { return TableContents(snapshot: NFTablesSnapshot(family: family, exists: false), sets: []) }
        let table = NFTablesLayout.tableName(family)
        let chains = try query(TableMessages.dumpChains(family), "list the chains of \(table)")
            .compactMap(NftReplies.chain).filter { $0.table == NFTablesLayout.table }.map(\.name)
        let sets = try sets(family, NFTablesLayout.table)
        let elements: [NFTablesElement]
        if let only, let lookup = try lookUp([family: only.filter { sets.contains($0.set) }]) {
            elements = (lookup.found[family] ?? []).compactMap { $0 }
        } else {
            elements = try self.elements(family, in: sets)
        }
        let snapshot = NFTablesSnapshot(family: family, exists: true, chains: chains, elements: elements)
        return TableContents(snapshot: snapshot, sets: sets)
    }

    /// Every element of `sets` in `family`'s table (or `table`), which must exist, or only those
    /// whose owner comment `owners` accepts (the others are not decoded); not those being expired
    /// (`ElementExpiry`).
    func elements(
        _ family: IPFamily, in sets: [NFTablesElement.Set] = NFTablesElement.Set.allCases, table: String = NFTablesLayout.table,
        owners: (String) -> Bool = { _ in true }
    ) throws(BackendError) -> [NFTablesElement] {
        var elements: [NFTablesElement] = []
        for set in sets {
            let name = "\(NFTablesLayout.tableName(family, table)) \(set.rawValue)"
            for message in try query(TableMessages.dumpElements(family, set, table), "list the elements of set \(name)") {
                for (bytes, comment) in NftReplies.elements(message, keeping: { owners($0 ?? "") }) where bytes.expiration == nil {
                    elements.append(try decode(bytes, comment: comment, set: set, family: family, table: table))
                }
            }
        }
        return elements
    }

    /// What the kernel holds under some keys (`lookUp`): per family the answer for each element
    /// asked about, nil for nothing; and whether an element being expired holds any of the keys.
    struct Lookup {
        var found: [IPFamily: [NFTablesElement?]]
        var expiring = false
    }

    /// For each of `planned`'s elements, what its family's table (which must exist) holds under
    /// its key, nil for nothing (ENOENT) or an element being expired (then `expiring`): one
    /// GETSETELEM per element, all sent together, so the cost does not grow with what else the
    /// sets hold. In `masq_pairs` the answer may be another range than the one planned
    /// (`TableMessages.getElement`). nil when the kernel refuses a lookup otherwise: a set of
    /// another type than the plugin's refuses its keys (EINVAL), and only reading the set says
    /// what it holds.
    func lookUp(_ planned: [IPFamily: [NFTablesElement]]) throws(BackendError) -> Lookup? {
        let requests = IPFamily.allCases.flatMap { family in (planned[family] ?? []).map { (family, $0) } }
        let answers: [Result<[[UInt8]], HostNetworkError>]
        do {
            answers = try socket.lookUp(
                requests.map { TableMessages.getElement($1, family: $0) },
                operation: "look up the elements to add")
        } catch {
            throw BackendError(.kernel, "nftables: \(error)")
        }
        var lookup = Lookup(found: planned.mapValues { _ in [NFTablesElement?]() })
        for ((family, element), answer) in zip(requests, answers) {
            switch answer {
            case .success(let messages):
                var read = messages.flatMap(NftReplies.elements).first
                if read?.bytes.expiration != nil {
                    lookup.expiring = true
                    read = nil
                }
                lookup.found[family]!.append(
                    try read.map { read throws(BackendError) in
                        try decode(read.bytes, comment: read.comment, set: element.set, family: family, table: NFTablesLayout.table)
                    })
            case .failure(let refusal) where refusal.errno == .noSuchFileOrDirectory:
                lookup.found[family]!.append(nil)
            case .failure:
                return nil
            }
        }
        return lookup
    }

    /// An element as read from `set`, which must be of the plugin's type.
    private func decode(_ bytes: ElementBytes, comment: String?, set: NFTablesElement.Set, family: IPFamily, table: String) throws(BackendError)
        -> NFTablesElement
    {
        guard let element = ElementCodec.decode(bytes, set: set, family: family, owner: comment ?? "") else {
            throw BackendError(
                .kernel, "nftables: set \(NFTablesLayout.tableName(family, table)) \(set.rawValue) holds an element that is not of the plugin's type",
                details: "key of \(bytes.key.count) bytes; was the table changed by hand?")
        }
        return element
    }

    /// The replies to `request`, none when the kernel has no such object (ENOENT).
    private func queryUnlessMissing(_ request: [UInt8], _ operation: String) throws(BackendError) -> [[UInt8]] {
        do {
            return try socket.query(request, operation: operation)
        } catch let error where error.errno == .noSuchFileOrDirectory {
            return []
        } catch {
            throw BackendError(.kernel, "nftables: \(error)")
        }
    }

    func query(_ request: [UInt8], _ operation: String) throws(BackendError) -> [[UInt8]] {
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
