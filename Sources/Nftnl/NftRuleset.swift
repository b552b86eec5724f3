internal import CNftnl
import PortmapCore

/// Reading any table of the ruleset, not only this plugin's: `hostports` looks for the tables
/// other forwarders keep (kube-proxy's, netavark's, CRI-O's), in every family nf_tables has
/// (`ip`, `ip6`, `inet`), through the same libnftnl requests and parsers as the backend.
package enum NftTableFamily: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case inet = 1
    case ip = 2
    case ip6 = 10

    package var description: String {
        switch self {
        case .inet: "inet"
        case .ip: "ip"
        case .ip6: "ip6"
        }
    }
}

extension NftMessages {
    /// NFT_MSG_GETTABLE dump of every family's tables.
    package static func dumpTables() -> [UInt8] {
        message(NFT_MSG_GETTABLE, family: 0, flags: .dump) { _ in }
    }

    /// NFT_MSG_GETCHAIN dump of every chain of `family`'s tables.
    package static func dumpChains(_ family: NftTableFamily) -> [UInt8] {
        message(NFT_MSG_GETCHAIN, family: family.rawValue, flags: .dump) { _ in }
    }

    /// NFT_MSG_GETRULE dump of one table, every chain: the kernel walks only that table.
    package static func dumpRules(_ family: NftTableFamily, table: String) -> [UInt8] {
        message(NFT_MSG_GETRULE, family: family.rawValue, flags: .dump) { header in
            let object = nftnl_rule_alloc()!
            defer { nftnl_rule_free(object) }
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), table)
            nftnl_rule_nlmsg_build_payload(header, object)
        }
    }

    /// NFT_MSG_GETSET dump of one table of `family`.
    package static func dumpSets(_ family: NftTableFamily, table: String) -> [UInt8] {
        message(NFT_MSG_GETSET, family: family.rawValue, flags: .dump) { header in
            withSet(table: table, name: nil) { nftnl_set_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETSETELEM dump of one set of `family`'s `table`.
    package static func dumpElements(_ family: NftTableFamily, table: String, set: String) -> [UInt8] {
        message(NFT_MSG_GETSETELEM, family: family.rawValue, flags: .dump) { header in
            withSet(table: table, name: set) { nftnl_set_elems_nlmsg_build_payload(header, $0) }
        }
    }
}

extension NftReplies {
    /// A table of a GETTABLE dump.
    package static func table(_ message: [UInt8]) -> (family: NftTableFamily, name: String)? {
        let object = nftnl_table_alloc()!
        defer { nftnl_table_free(object) }
        guard parse(message, { nftnl_table_nlmsg_parse($0, object) }),
            let name = nftnl_table_get_str(object, UInt16(NFTNL_TABLE_NAME.rawValue)),
            let family = NftTableFamily(rawValue: UInt16(nftnl_table_get_u32(object, UInt16(NFTNL_TABLE_FAMILY.rawValue))))
        else { return nil }
        return (family, String(cString: name))
    }

    /// An element of any set or map: its key, its value (a map's data), or for a verdict map the
    /// verdict and the chain it jumps or goes to, and its comment.
    package struct AnyElement: Sendable, Equatable {
        package var key: [UInt8]
        package var keyEnd: [UInt8]?
        package var data: [UInt8]?
        package var verdict: Int32?
        package var chain: String?
        package var comment: String?
    }

    package static func anyElements(_ message: [UInt8]) -> [AnyElement] {
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        guard parse(message, { nftnl_set_elems_nlmsg_parse($0, set) }) else { return [] }
        var elements: [AnyElement] = []
        let iterator = nftnl_set_elems_iter_create(set)!
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var next = nftnl_set_elems_iter_next(iterator)
        while let element = next {
            next = nftnl_set_elems_iter_next(iterator)
            let hasVerdict = nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_VERDICT))
            elements.append(
                AnyElement(
                    key: attribute(element, NFTNL_SET_ELEM_KEY) ?? [], keyEnd: attribute(element, NFTNL_SET_ELEM_KEY_END),
                    data: attribute(element, NFTNL_SET_ELEM_DATA),
                    verdict: hasVerdict ? Int32(bitPattern: nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_VERDICT))) : nil,
                    chain: nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_CHAIN))
                        ? nftnl_set_elem_get_str(element, UInt16(NFTNL_SET_ELEM_CHAIN)).map { String(cString: $0) } : nil,
                    comment: comment(element)))
        }
        return elements
    }
}
