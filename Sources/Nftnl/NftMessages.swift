internal import CNftnl
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// libnftnl's building half: nf_tables requests and batch messages laid out by
/// `nftnl_*_nlmsg_build_payload` from libnftnl objects, as nft and iptables-nft (both libnftnl
/// users) build them. With `NftReplies.swift` and `NftRuleset.swift` the only Swift that calls libnftnl. Messages leave
/// as whole netlink messages numbered 0; `NetfilterSocket` numbers and sends them.
package enum NftMessages {
    /// Room for the largest message here (an iptables-nft rule with a 256-byte comment match and
    /// a multiport match, an element with a 127-byte comment: under 1 KiB). libnftnl's putters do
    /// not check the buffer's end, so every message is also checked against it once built.
    static let bufferSize = 4096

    /// The netlink flags a message is sent with.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }

        package static let create = Flags(rawValue: UInt16(NLM_F_CREATE))
        package static let exclusive = Flags(rawValue: UInt16(NLM_F_EXCL))
        package static let append = Flags(rawValue: UInt16(NLM_F_APPEND))
        /// DELCHAIN: refuse a chain that still holds rules (iptables' `-X`).
        package static let nonRecursive = Flags(rawValue: UInt16(NLM_F_NONREC))
        package static let acknowledge = Flags(rawValue: UInt16(NLM_F_ACK))
        package static let dump = Flags(rawValue: UInt16(NLM_F_DUMP))
    }

    // MARK: - Requests

    /// NFT_MSG_GETGEN: the ruleset's generation, which a batch names to be refused if another
    /// commits first.
    package static func getGeneration() -> [UInt8] {
        message(NFT_MSG_GETGEN, family: 0, flags: []) { _ in }
    }

    /// NFT_MSG_GETTABLE of one table: answered by the table, or ENOENT.
    package static func getTable(_ name: String, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETTABLE, family: family, flags: []) { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), name)
            nftnl_table_nlmsg_build_payload(header, table)
        }
    }

    /// NFT_MSG_GETCHAIN of one chain: answered by the chain (with its use count), or ENOENT.
    package static func getChain(table: String, name: String, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETCHAIN, family: family, flags: []) { header in
            withChain(NftChain(table: table, name: name)) { nftnl_chain_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETCHAIN dump of `family`: every table's chains (the kernel filters chain dumps
    /// by family only).
    package static func dumpChains(_ family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETCHAIN, family: family, flags: .dump) { _ in }
    }

    /// NFT_MSG_GETRULE dump of one chain, as iptables-nft reads a chain: the kernel walks only it.
    package static func dumpRules(_ family: IPFamily, table: String, chain: String) -> [UInt8] {
        message(NFT_MSG_GETRULE, family: family, flags: .dump) { header in
            let object = nftnl_rule_alloc()!
            defer { nftnl_rule_free(object) }
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), table)
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
            nftnl_rule_nlmsg_build_payload(header, object)
        }
    }

    /// NFT_MSG_GETSET dump of one table.
    package static func dumpSets(_ family: IPFamily, table: String) -> [UInt8] {
        message(NFT_MSG_GETSET, family: family, flags: .dump) { header in
            withSet(table: table, name: nil) { nftnl_set_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETSETELEM dump of one set; ENOENT when there is no such set.
    package static func dumpElements(_ family: IPFamily, table: String, set: String) -> [UInt8] {
        message(NFT_MSG_GETSETELEM, family: family, flags: .dump) { header in
            withSet(table: table, name: set) { nftnl_set_elems_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETSETELEM of one element named by `key` (and `keyEnd`), asking for an ACK: the
    /// request of `nft get element`. Answered by the element that holds the key, or ENOENT.
    package static func getElement(_ family: IPFamily, table: String, set: String, name: ElementBytes) -> [UInt8] {
        message(NFT_MSG_GETSETELEM, family: family, flags: .acknowledge) { header in
            withSet(table: table, name: set) { object in
                nftnl_set_elem_add(object, element(name))
                nftnl_set_elems_nlmsg_build_payload(header, object)
            }
        }
    }

    /// NFNL_MSG_COMPAT_GET of an xtables match or target (iptables-nft's revision probe): the
    /// kernel answers when it has the extension (loading its module if it must), or refuses with
    /// ENOENT. Laid out here, as iptables-nft lays it out with libmnl: libnftnl has no builder.
    package static func compatProbe(name: String, revision: UInt32, isTarget: Bool, family: IPFamily) -> [UInt8] {
        var attributes: [UInt8] = []
        func put(_ type: Int, _ payload: [UInt8]) {
            let length = 4 + payload.count
            attributes += littleEndian(UInt16(length))
            attributes += littleEndian(UInt16(type))
            attributes += payload
            attributes += [UInt8](repeating: 0, count: (4 - length % 4) % 4)
        }
        put(Int(NFTA_COMPAT_NAME), Array(name.utf8) + [0])
        put(Int(NFTA_COMPAT_REV), bigEndian(revision))
        put(Int(NFTA_COMPAT_TYPE), bigEndian(UInt32(isTarget ? 1 : 0)))
        let type = UInt16(NFNL_SUBSYS_NFT_COMPAT) << 8 | UInt16(NFNL_MSG_COMPAT_GET)
        var message: [UInt8] = littleEndian(UInt32(16 + 4 + attributes.count))
        message += littleEndian(type)
        message += littleEndian(UInt16(NLM_F_REQUEST | NLM_F_ACK))
        message += [UInt8](repeating: 0, count: 8)
        message += [UInt8(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6), UInt8(NFNETLINK_V0), 0, 0]
        return message + attributes
    }

    private static func littleEndian<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    // MARK: - Batch messages

    /// NFT_MSG_NEWTABLE; with `tableFlags` the NFTA_TABLE_FLAGS attribute nft sends (0), without
    /// it none, as iptables-nft sends it.
    package static func newTable(_ name: String, family: IPFamily, flags: Flags, tableFlags: UInt32? = nil) -> [UInt8] {
        message(NFT_MSG_NEWTABLE, family: family, flags: flags) { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), name)
            if let tableFlags { nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FLAGS.rawValue), tableFlags) }
            nftnl_table_nlmsg_build_payload(header, table)
        }
    }

    /// NFT_MSG_NEWCHAIN; a base chain with policy accept.
    package static func newChain(_ chain: NftChain, family: IPFamily, flags: Flags) -> [UInt8] {
        message(NFT_MSG_NEWCHAIN, family: family, flags: flags) { header in
            withChain(chain) { nftnl_chain_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_DELCHAIN of an empty chain no rule jumps to (`-X`).
    package static func deleteChain(table: String, name: String, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_DELCHAIN, family: family, flags: .nonRecursive) { header in
            withChain(NftChain(table: table, name: name)) { nftnl_chain_nlmsg_build_payload(header, $0) }
        }
    }

    /// The set, with `id` (NFTA_SET_ID) by which rules and elements of the same batch may name it.
    package static func newSet(_ definition: NftSet, family: IPFamily, id: UInt32) -> [UInt8] {
        message(NFT_MSG_NEWSET, family: family, flags: .create) { header in
            withSet(table: definition.table, name: definition.name) { set in
                nftnl_set_set_u32(set, UInt16(NFTNL_SET_FLAGS.rawValue), definition.flags)
                nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_TYPE.rawValue), definition.keyType)
                nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_LEN.rawValue), definition.keyLength)
                if let type = definition.dataType, let length = definition.dataLength {
                    nftnl_set_set_u32(set, UInt16(NFTNL_SET_DATA_TYPE.rawValue), type)
                    nftnl_set_set_u32(set, UInt16(NFTNL_SET_DATA_LEN.rawValue), length)
                }
                nftnl_set_set_u32(set, UInt16(NFTNL_SET_ID.rawValue), id)
                if !definition.fieldLengths.isEmpty {
                    _ = definition.fieldLengths.withUnsafeBytes {
                        nftnl_set_set_data(set, UInt16(NFTNL_SET_DESC_CONCAT.rawValue), $0.baseAddress, UInt32($0.count))
                    }
                }
                let userdata = nftnl_udata_buf_alloc(UInt32(bufferSize))!
                defer { nftnl_udata_buf_free(userdata) }
                put(definition.userdata, into: userdata)
                nftnl_set_set_data(set, UInt16(NFTNL_SET_USERDATA.rawValue), nftnl_udata_buf_data(userdata), nftnl_udata_buf_len(userdata))
                nftnl_set_nlmsg_build_payload(header, set)
            }
        }
    }

    /// NFT_MSG_NEWRULE: appended with `.append`, else inserted at the chain's head or, with
    /// `position`, before the rule of that handle. `setIDs` name sets created in the same batch.
    package static func newRule(
        _ rule: NftRule, family: IPFamily, flags: Flags, position: UInt64? = nil, setIDs: [String: UInt32] = [:]
    ) -> [UInt8] {
        message(NFT_MSG_NEWRULE, family: family, flags: flags) { header in
            let object = nftnl_rule_alloc()!
            defer { nftnl_rule_free(object) }
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), rule.table)
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue), rule.chain)
            if let position { nftnl_rule_set_u64(object, UInt16(NFTNL_RULE_POSITION.rawValue), position) }
            for expression in rule.expressions {
                nftnl_rule_add_expr(object, Self.expression(expression, setIDs: setIDs))
            }
            if let compat = rule.compat {
                nftnl_rule_set_u32(object, UInt16(NFTNL_RULE_COMPAT_PROTO.rawValue), compat.proto)
                nftnl_rule_set_u32(object, UInt16(NFTNL_RULE_COMPAT_FLAGS.rawValue), compat.inverted ? UInt32(NFT_RULE_COMPAT_F_INV.rawValue) : 0)
            }
            nftnl_rule_nlmsg_build_payload(header, object)
        }
    }

    /// NFT_MSG_DELRULE of the rule with `handle`, or of every rule of `chain` without one (`-F`).
    package static func deleteRule(table: String, chain: String, handle: UInt64?, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_DELRULE, family: family, flags: []) { header in
            let object = nftnl_rule_alloc()!
            defer { nftnl_rule_free(object) }
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), table)
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
            if let handle { nftnl_rule_set_u64(object, UInt16(NFTNL_RULE_HANDLE.rawValue), handle) }
            nftnl_rule_nlmsg_build_payload(header, object)
        }
    }

    /// NFT_MSG_NEWSETELEM of one element with `comment` in its userdata, as nft writes it; `setID`
    /// when its set is created in the same batch (as nft sends it, though the kernel finds the set
    /// by name).
    package static func newElement(
        _ family: IPFamily, table: String, set: String, setID: UInt32?, _ bytes: ElementBytes, comment: String
    ) -> [UInt8] {
        message(NFT_MSG_NEWSETELEM, family: family, flags: .create) { header in
            withSet(table: table, name: set, id: setID) { object in
                let element = element(bytes)
                let userdata = nftnl_udata_buf_alloc(UInt32(NFTNL_UDATA_COMMENT_MAXLEN) + 2)!
                defer { nftnl_udata_buf_free(userdata) }
                nftnl_udata_put_strz(userdata, UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue), comment)
                nftnl_set_elem_set(element, UInt16(NFTNL_SET_ELEM_USERDATA), nftnl_udata_buf_data(userdata), nftnl_udata_buf_len(userdata))
                nftnl_set_elem_add(object, element)
                nftnl_set_elems_nlmsg_build_payload(header, object)
            }
        }
    }

    /// NFT_MSG_DELSETELEM of one element, named by `name` (its key, and the end of its range
    /// where that is not the key itself).
    package static func deleteElement(_ family: IPFamily, table: String, set: String, name: ElementBytes) -> [UInt8] {
        message(NFT_MSG_DELSETELEM, family: family, flags: []) { header in
            withSet(table: table, name: set) { object in
                nftnl_set_elem_add(object, element(name))
                nftnl_set_elems_nlmsg_build_payload(header, object)
            }
        }
    }

    // MARK: - libnftnl objects

    /// A message of `type` for `family` (0: every family), its payload laid out by `payload`.
    static func message(
        _ type: nf_tables_msg_types, family: UInt16, flags: Flags,
        _ payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: bufferSize)
        return buffer.withUnsafeMutableBufferPointer { raw in
            let header = nftnl_nlmsg_build_hdr(raw.baseAddress, cni_nft_msg_type(type.rawValue), family, flags.rawValue, 0)!
            payload(header)
            let length = Int(header.pointee.nlmsg_len)
            precondition(length <= raw.count, "an nf_tables message overran its buffer")
            return Array(UnsafeRawBufferPointer(start: header, count: length))
        }
    }

    private static func message(
        _ type: nf_tables_msg_types, family: IPFamily, flags: Flags,
        _ payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) -> [UInt8] {
        message(type, family: UInt16(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6), flags: flags, payload)
    }

    /// A chain object: table and name, and for a base chain its hook, type and policy accept.
    private static func withChain(_ chain: NftChain, _ body: (OpaquePointer) -> Void) {
        let object = nftnl_chain_alloc()!
        defer { nftnl_chain_free(object) }
        nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TABLE.rawValue), chain.table)
        nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        if let hook = chain.hook {
            nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TYPE.rawValue), hook.type)
            nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hook.number)
            nftnl_chain_set_s32(object, UInt16(NFTNL_CHAIN_PRIO.rawValue), hook.priority)
            nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_POLICY.rawValue), UInt32(NF_ACCEPT))
        }
        body(object)
    }

    /// A set object of `table`, named `name` (nil: no name, the whole table), with `id` if given.
    static func withSet(table: String, name: String?, id: UInt32? = nil, _ body: (OpaquePointer) -> Void) {
        let object = nftnl_set_alloc()!
        defer { nftnl_set_free(object) }
        nftnl_set_set_str(object, UInt16(NFTNL_SET_TABLE.rawValue), table)
        if let name { nftnl_set_set_str(object, UInt16(NFTNL_SET_NAME.rawValue), name) }
        if let id { nftnl_set_set_u32(object, UInt16(NFTNL_SET_ID.rawValue), id) }
        body(object)
    }

    /// An element object; the set it is added to frees it.
    private static func element(_ bytes: ElementBytes) -> OpaquePointer {
        let object = nftnl_set_elem_alloc()!
        func put(_ attribute: Int, _ data: [UInt8]) {
            _ = data.withUnsafeBytes { nftnl_set_elem_set(object, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
        }
        put(NFTNL_SET_ELEM_KEY, bytes.key)
        if let end = bytes.keyEnd { put(NFTNL_SET_ELEM_KEY_END, end) }
        if let data = bytes.data { put(NFTNL_SET_ELEM_DATA, data) }
        if let expiration = bytes.expiration {
            nftnl_set_elem_set_u64(object, UInt16(NFTNL_SET_ELEM_TIMEOUT), 1_000)
            nftnl_set_elem_set_u64(object, UInt16(NFTNL_SET_ELEM_EXPIRATION), expiration)
        }
        return object
    }

    private static func put(_ items: [NftUserdata], into buffer: OpaquePointer) {
        for item in items {
            switch item {
            case .u32(let type, let value):
                nftnl_udata_put_u32(buffer, type, value)
            case .nest(let type, let children):
                let nest = nftnl_udata_nest_start(buffer, type)
                put(children, into: buffer)
                nftnl_udata_nest_end(buffer, nest)
            }
        }
    }

    /// An expression object; the rule it is added to frees it.
    private static func expression(_ expression: NftExpression, setIDs: [String: UInt32]) -> OpaquePointer {
        func make(_ name: String, _ attributes: [(Int, UInt32)]) -> OpaquePointer {
            let object = nftnl_expr_alloc(name)!
            for (attribute, value) in attributes { nftnl_expr_set_u32(object, UInt16(attribute), value) }
            return object
        }
        func data(_ object: OpaquePointer, _ attribute: Int, _ bytes: [UInt8]) -> OpaquePointer {
            _ = bytes.withUnsafeBytes { nftnl_expr_set(object, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
            return object
        }
        switch expression {
        case .payload(let base, let offset, let length, let register):
            return make(
                "payload",
                [
                    (NFTNL_EXPR_PAYLOAD_DREG, register), (NFTNL_EXPR_PAYLOAD_BASE, base),
                    (NFTNL_EXPR_PAYLOAD_OFFSET, offset), (NFTNL_EXPR_PAYLOAD_LEN, length),
                ])
        case .meta(let key, let register):
            return make("meta", [(NFTNL_EXPR_META_KEY, key), (NFTNL_EXPR_META_DREG, register)])
        case .conntrack(let key, let register):
            return make("ct", [(NFTNL_EXPR_CT_KEY, key), (NFTNL_EXPR_CT_DREG, register)])
        case .bitwise(let register, let length, let mask, let xor):
            let object = make(
                "bitwise",
                [
                    (NFTNL_EXPR_BITWISE_SREG, register), (NFTNL_EXPR_BITWISE_DREG, register),
                    (NFTNL_EXPR_BITWISE_LEN, length),
                ])
            return data(data(object, NFTNL_EXPR_BITWISE_MASK, mask), NFTNL_EXPR_BITWISE_XOR, xor)
        case .compare(let register, let operation, let bytes):
            return data(make("cmp", [(NFTNL_EXPR_CMP_SREG, register), (NFTNL_EXPR_CMP_OP, operation)]), NFTNL_EXPR_CMP_DATA, bytes)
        case .fib(let flags, let result, let register):
            return make("fib", [(NFTNL_EXPR_FIB_FLAGS, flags), (NFTNL_EXPR_FIB_RESULT, result), (NFTNL_EXPR_FIB_DREG, register)])
        case .lookup(let set, let setID, let source, let destination):
            let object = make("lookup", [(NFTNL_EXPR_LOOKUP_SREG, source)] + (destination.map { [(NFTNL_EXPR_LOOKUP_DREG, $0)] } ?? []))
            nftnl_expr_set_str(object, UInt16(NFTNL_EXPR_LOOKUP_SET), set)
            if let id = setID ?? setIDs[set] { nftnl_expr_set_u32(object, UInt16(NFTNL_EXPR_LOOKUP_SET_ID), id) }
            return object
        case .dnat(let family, let address, let port):
            return make(
                "nat",
                [
                    (NFTNL_EXPR_NAT_TYPE, UInt32(NFT_NAT_DNAT.rawValue)), (NFTNL_EXPR_NAT_FAMILY, family),
                    (NFTNL_EXPR_NAT_REG_ADDR_MIN, address), (NFTNL_EXPR_NAT_REG_PROTO_MIN, port),
                ])
        case .masquerade:
            return make("masq", [])
        case .counter(let bytes, let packets):
            let object = nftnl_expr_alloc("counter")!
            nftnl_expr_set_u64(object, UInt16(NFTNL_EXPR_CTR_BYTES), bytes)
            nftnl_expr_set_u64(object, UInt16(NFTNL_EXPR_CTR_PACKETS), packets)
            return object
        case .verdict(let code, let chain):
            let object = make("immediate", [(NFTNL_EXPR_IMM_DREG, UInt32(NFT_REG_VERDICT.rawValue)), (NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: code))])
            if let chain { nftnl_expr_set_str(object, UInt16(NFTNL_EXPR_IMM_CHAIN), chain) }
            return object
        case .match(let name, let revision, let info), .target(let name, let revision, let info):
            let isMatch = if case .match = expression { true } else { false }
            let object = nftnl_expr_alloc(isMatch ? "match" : "target")!
            nftnl_expr_set_str(object, UInt16(isMatch ? NFTNL_EXPR_MT_NAME : NFTNL_EXPR_TG_NAME), name)
            nftnl_expr_set_u32(object, UInt16(isMatch ? NFTNL_EXPR_MT_REV : NFTNL_EXPR_TG_REV), revision)
            // libnftnl keeps the pointer and frees it with the expression: a malloc'd copy.
            let copy = malloc(max(info.count, 1))!
            info.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: info.count) } }
            nftnl_expr_set(object, UInt16(isMatch ? NFTNL_EXPR_MT_INFO : NFTNL_EXPR_TG_INFO), copy, UInt32(info.count))
            return object
        case .unknown(let name):
            preconditionFailure("an expression read back (\(name)) is never written")
        case .immediate:
            preconditionFailure("an immediate value is only read back, never written")
        }
    }
}
