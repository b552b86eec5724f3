import PortmapCore

/// What a verb changes in one family's sets, worked out from the elements the table holds. Pure:
/// the kernel is read before and written after, by `NFTablesBackend`.
struct ElementChanges: Equatable {
    /// Deleted first, so that an element replaced by one with the same key can be added after.
    var deletions: [NFTablesElement] = []
    var additions: [NFTablesElement] = []
    /// DNAT keys another container owns; an ADD with any is refused before anything is sent.
    var conflicts: [ElementConflict] = []

    var isEmpty: Bool { deletions.isEmpty && additions.isEmpty }

    /// ADD of the container `owner` whose elements are `planned`, to a table holding `current`:
    /// - an identical element is kept;
    /// - an element of this container with a planned key but another value is replaced, and one
    ///   with a key no longer planned is deleted (a re-ADD with other mappings or addresses);
    /// - a DNAT key another container owns is a conflict: the kernel keeps one value per key, so
    ///   two containers cannot both have it (the iptables backend lets the first rule win);
    /// - a `masq_pairs` key another owner holds is taken over: it names this container's own
    ///   address, so that owner is gone (deleted without a DEL) and the pair means the same.
    static func add(_ planned: [NFTablesElement], owner: String, current: [NFTablesElement]) -> ElementChanges {
        var changes = ElementChanges()
        var existing: [ElementKey: NFTablesElement] = [:]
        for element in current { existing[ElementKey(element)] = element }
        let plannedKeys = Set(planned.map(ElementKey.init))
        changes.deletions = current.filter { $0.owner == owner && !plannedKeys.contains(ElementKey($0)) }
        for element in planned {
            guard let there = existing[ElementKey(element)] else {
                changes.additions.append(element)
                continue
            }
            if there == element { continue }
            if there.owner == owner || element.set == .masquerade {
                changes.deletions.append(there)
                changes.additions.append(element)
            } else {
                changes.conflicts.append(ElementConflict(element: element, owner: there.owner))
            }
        }
        return changes
    }

    /// Whether what the kernel holds under ADD's planned keys (`found`, per family the answer for
    /// each element of `planned`, nil: nothing) is all `add(_:owner:current:)` needs, so that the
    /// rest of the sets, other containers' elements, need not be read. Not when:
    /// - an answer is this container's (`owner`): it was added before, and may have left elements
    ///   under keys it no longer plans (other mappings or addresses), which only reading every
    ///   element finds. A re-ADD that shares no key with the earlier ADD does not get here, and
    ///   leaves the earlier elements until DEL or GC;
    /// - an answer is another `masq_pairs` range than planned: the kernel answers with whichever
    ///   range holds the key's first address, so the planned one may be there as well.
    static func lookupSuffices(planned: [IPFamily: [NFTablesElement]], found: [IPFamily: [NFTablesElement?]], owner: String) -> Bool {
        found.allSatisfy { family, answers in
            zip(planned[family] ?? [], answers).allSatisfy { element, held in
                guard let held else { return true }
                return held.owner != owner && ElementKey(held) == ElementKey(element)
            }
        }
    }

    /// What DEL expires when its planned keys were looked up (`found`, per family the answer for
    /// each element of `planned`): the elements found, if every one is there and `owner`'s under
    /// its very key (for `masq_pairs`, the same range); nil otherwise, and then only reading every
    /// element finds all the container holds. A family without planned elements holds none of
    /// the container's.
    static func heldByOwner(planned: [IPFamily: [NFTablesElement]], found: [IPFamily: [NFTablesElement?]], owner: String) -> [IPFamily: [NFTablesElement]]? {
        var held: [IPFamily: [NFTablesElement]] = [:]
        for (family, elements) in planned {
            let answers = found[family] ?? []
            guard answers.count == elements.count else { return nil }
            for (element, answer) in zip(elements, answers) {
                guard let answer, answer.owner == owner, ElementKey(answer) == ElementKey(element) else { return nil }
                held[family, default: []].append(answer)
            }
        }
        return held
    }

    /// DEL: every element `owner` holds.
    static func removal(of owner: String, from current: [NFTablesElement]) -> ElementChanges {
        ElementChanges(deletions: current.filter { $0.owner == owner })
    }

    /// GC: the elements of `network`'s containers not in `keeping`.
    static func garbage(of network: String, keeping: Set<String>, from current: [NFTablesElement]) -> ElementChanges {
        let collect = isGarbage(network: network, keeping: keeping)
        return ElementChanges(deletions: current.filter { collect($0.owner) })
    }

    /// Whether an element's owner comment names one of `network`'s containers not in `keeping`.
    /// An owner that names no network (the hashed form of a long one, or a comment someone else
    /// wrote) is left alone.
    static func isGarbage(network: String, keeping: Set<String>) -> (String) -> Bool {
        { owner in
            guard let (owned, container) = NFTablesPlanner.parseOwner(owner) else { return false }
            return owned == network && !keeping.contains(container)
        }
    }
}

/// An element's identity in its table: the kernel holds one element per key in each set.
struct ElementKey: Hashable {
    var set: NFTablesElement.Set
    var key: NFTablesElement.Key

    init(_ element: NFTablesElement) {
        set = element.set
        key = element.key
    }
}

/// A planned DNAT element whose key another container owns.
struct ElementConflict: Equatable, CustomStringConvertible {
    var element: NFTablesElement
    var owner: String

    /// `tcp port 8080 on every IPv4 address is already mapped by net/abc (to 10.88.0.9 port 80)`.
    var description: String {
        let claimant = owner.isEmpty ? "an element without an owner comment" : owner
        return "\(Self.claim(element)) is already mapped by \(claimant)"
    }

    /// What a DNAT element claims: protocol, port and address.
    static func claim(_ element: NFTablesElement) -> String {
        switch element.key {
        case .port(let transport, let port):
            let family = element.destination?.address.family == .ipv6 ? "IPv6" : "IPv4"
            return "\(transport.rawValue) port \(port) on every \(family) address"
        case .hostPort(let address, let transport, let port):
            return "\(transport.rawValue) port \(port) on \(address)"
        case .sourceToPod(let source, let pod):
            return "masquerading from \(source) to \(pod)"
        }
    }
}
