internal import CNftnl
import PortmapCore

/// libnftnl's building half: the nf_tables messages of the backend's requests and batches, laid
/// out by `nftnl_*_nlmsg_build_payload` from libnftnl objects, as nft itself builds them. With
/// `NftnlReplies.swift` the only Swift that calls libnftnl. Messages leave as whole netlink
/// messages numbered 0; `NetfilterSocket` numbers and sends them.
enum NftnlMessages {
    /// Room for the largest message here (a rule of seven expressions, an element with a 127-byte
    /// comment: under 600 bytes). libnftnl's putters do not check the buffer's end, so every
    /// message is also checked against it once built.
    static let bufferSize = 4096

    // MARK: - Requests

    /// NFT_MSG_GETGEN: the ruleset's generation, which a batch names to be refused if another
    /// commits first.
    static func getGeneration() -> [UInt8] {
        message(NFT_MSG_GETGEN, family: 0, flags: 0) { _ in }
    }

    /// NFT_MSG_GETTABLE of the plugin's table: answered by the table, or ENOENT.
    static func getTable(_ family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETTABLE, family: family, flags: 0) { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), NFTablesLayout.table)
            nftnl_table_nlmsg_build_payload(header, table)
        }
    }

    /// NFT_MSG_GETCHAIN dump of `family`: every table's chains (the kernel filters by family only).
    static func dumpChains(_ family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETCHAIN, family: family, flags: cni_nft_flags_dump()) { _ in }
    }

    /// NFT_MSG_GETSET dump of the plugin's table.
    static func dumpSets(_ family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETSET, family: family, flags: cni_nft_flags_dump()) { header in
            withSet(nil) { nftnl_set_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETSETELEM dump of one set of the plugin's table; ENOENT when there is no such set.
    static func dumpElements(_ family: IPFamily, _ set: NFTablesElement.Set) -> [UInt8] {
        message(NFT_MSG_GETSETELEM, family: family, flags: cni_nft_flags_dump()) { header in
            withSet(set) { nftnl_set_elems_nlmsg_build_payload(header, $0) }
        }
    }

    /// NFT_MSG_GETSETELEM of one element, named as `deleteElement` names it, asking for an ACK:
    /// the request of `nft get element`. Answered by the element that holds the key (in an
    /// interval set, whichever holds the key's first address, whatever its range), or ENOENT.
    static func getElement(_ element: NFTablesElement, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_GETSETELEM, family: family, flags: UInt16(NLM_F_ACK)) { header in
            withSet(element.set) { set in
                nftnl_set_elem_add(set, self.element(name(of: element)))
                nftnl_set_elems_nlmsg_build_payload(header, set)
            }
        }
    }

    // MARK: - Batch messages

    static func addTable(_ family: IPFamily) -> [UInt8] {
        message(NFT_MSG_NEWTABLE, family: family, flags: 0) { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), NFTablesLayout.table)
            nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FLAGS.rawValue), 0)
            nftnl_table_nlmsg_build_payload(header, table)
        }
    }

    static func addChain(_ chain: TableLayout.Chain, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_NEWCHAIN, family: family, flags: cni_nft_flags_create()) { header in
            let object = nftnl_chain_alloc()!
            defer { nftnl_chain_free(object) }
            nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TABLE.rawValue), NFTablesLayout.table)
            nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
            if let hook = chain.hook {
                nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TYPE.rawValue), hook.type)
                nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hook.number)
                nftnl_chain_set_s32(object, UInt16(NFTNL_CHAIN_PRIO.rawValue), hook.priority)
                nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_POLICY.rawValue), UInt32(NF_ACCEPT))
            }
            nftnl_chain_nlmsg_build_payload(header, object)
        }
    }

    /// The set, with `id` (NFTA_SET_ID) by which rules and elements of the same batch may name it.
    static func addSet(_ definition: TableLayout.SetDefinition, family: IPFamily, id: UInt32) -> [UInt8] {
        message(NFT_MSG_NEWSET, family: family, flags: cni_nft_flags_create()) { header in
            withSet(definition.set) { set in
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

    /// The rule, appended to its chain; `setIDs` name the sets created in the same batch.
    static func addRule(_ rule: TableLayout.Rule, family: IPFamily, setIDs: [NFTablesElement.Set: UInt32]) -> [UInt8] {
        message(NFT_MSG_NEWRULE, family: family, flags: cni_nft_flags_create_append()) { header in
            let object = nftnl_rule_alloc()!
            defer { nftnl_rule_free(object) }
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), NFTablesLayout.table)
            nftnl_rule_set_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue), rule.chain)
            for expression in rule.expressions {
                nftnl_rule_add_expr(object, Self.expression(expression, setIDs: setIDs))
            }
            nftnl_rule_nlmsg_build_payload(header, object)
        }
    }

    /// NFT_MSG_NEWSETELEM of one element with its owner as comment; `setID` when its set is
    /// created in the same batch (as nft sends it, though the kernel finds the set by name).
    static func addElement(_ element: NFTablesElement, family: IPFamily, setID: UInt32?) -> [UInt8] {
        message(NFT_MSG_NEWSETELEM, family: family, flags: cni_nft_flags_create()) { header in
            withSet(element.set, id: setID) { set in
                let object = self.element(ElementCodec.encode(element))
                let comment = nftnl_udata_buf_alloc(UInt32(NFTNL_UDATA_COMMENT_MAXLEN) + 2)!
                defer { nftnl_udata_buf_free(comment) }
                nftnl_udata_put_strz(comment, UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue), element.owner)
                nftnl_set_elem_set(object, UInt16(NFTNL_SET_ELEM_USERDATA), nftnl_udata_buf_data(comment), nftnl_udata_buf_len(comment))
                nftnl_set_elem_add(set, object)
                nftnl_set_elems_nlmsg_build_payload(header, set)
            }
        }
    }

    /// NFT_MSG_DELSETELEM of one element, named by its key, and the end of its range unless that
    /// is the key itself (a single address), as nft names it.
    static func deleteElement(_ element: NFTablesElement, family: IPFamily) -> [UInt8] {
        message(NFT_MSG_DELSETELEM, family: family, flags: 0) { header in
            withSet(element.set) { set in
                nftnl_set_elem_add(set, self.element(name(of: element)))
                nftnl_set_elems_nlmsg_build_payload(header, set)
            }
        }
    }

    /// What names an element to the kernel: its key, and the end of its range unless that is the
    /// key itself (a single address), without its value.
    private static func name(of element: NFTablesElement) -> ElementBytes {
        var bytes = ElementCodec.encode(element)
        bytes.data = nil
        if bytes.keyEnd == bytes.key { bytes.keyEnd = nil }
        return bytes
    }

    // MARK: - libnftnl objects

    /// A message of `type` for `family` (0: every family), its payload laid out by `payload`.
    private static func message(
        _ type: nf_tables_msg_types, family: UInt16, flags: UInt16,
        _ payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: bufferSize)
        return buffer.withUnsafeMutableBufferPointer { raw in
            let header = nftnl_nlmsg_build_hdr(raw.baseAddress, cni_nft_msg_type(type.rawValue), family, flags, 0)!
            payload(header)
            let length = Int(header.pointee.nlmsg_len)
            precondition(length <= raw.count, "an nf_tables message overran its buffer")
            return Array(UnsafeRawBufferPointer(start: header, count: length))
        }
    }

    private static func message(
        _ type: nf_tables_msg_types, family: IPFamily, flags: UInt16,
        _ payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) -> [UInt8] {
        message(type, family: UInt16(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6), flags: flags, payload)
    }

    /// A set object of the plugin's table, named `set` (nil: no name, the whole table), with `id`
    /// if given.
    private static func withSet(_ set: NFTablesElement.Set?, id: UInt32? = nil, _ body: (OpaquePointer) -> Void) {
        let object = nftnl_set_alloc()!
        defer { nftnl_set_free(object) }
        nftnl_set_set_str(object, UInt16(NFTNL_SET_TABLE.rawValue), NFTablesLayout.table)
        if let set { nftnl_set_set_str(object, UInt16(NFTNL_SET_NAME.rawValue), set.rawValue) }
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
        return object
    }

    private static func put(_ items: [TableLayout.Userdata], into buffer: OpaquePointer) {
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
    private static func expression(_ expression: TableLayout.Expression, setIDs: [NFTablesElement.Set: UInt32]) -> OpaquePointer {
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
        case .lookup(let set, let source, let destination):
            let object = make("lookup", [(NFTNL_EXPR_LOOKUP_SREG, source)] + (destination.map { [(NFTNL_EXPR_LOOKUP_DREG, $0)] } ?? []))
            nftnl_expr_set_str(object, UInt16(NFTNL_EXPR_LOOKUP_SET), set.rawValue)
            if let id = setIDs[set] { nftnl_expr_set_u32(object, UInt16(NFTNL_EXPR_LOOKUP_SET_ID), id) }
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
        case .jump(let chain):
            let object = make(
                "immediate",
                [
                    (NFTNL_EXPR_IMM_DREG, UInt32(NFT_REG_VERDICT.rawValue)),
                    (NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: NFT_JUMP.rawValue)),
                ])
            nftnl_expr_set_str(object, UInt16(NFTNL_EXPR_IMM_CHAIN), chain)
            return object
        case .drop:
            return make("immediate", [(NFTNL_EXPR_IMM_DREG, UInt32(NFT_REG_VERDICT.rawValue)), (NFTNL_EXPR_IMM_VERDICT, UInt32(NF_DROP))])
        }
    }
}
