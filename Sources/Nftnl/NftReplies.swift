internal import CNftnl
import PortmapCore

/// libnftnl's reading half: the messages of the kernel's replies (each whole, as
/// `NetfilterSocket.query` returns them) parsed by `nftnl_*_nlmsg_parse` into Swift values. With
/// `NftMessages.swift` and `NftRuleset.swift` the only Swift that calls libnftnl. nil (or nothing) for a message
/// libnftnl cannot parse.
package enum NftReplies {
    /// NFTA_GEN_ID of an NFT_MSG_NEWGEN.
    package static func generation(_ message: [UInt8]) -> UInt32? {
        let object = nftnl_gen_alloc()!
        defer { nftnl_gen_free(object) }
        guard parse(message, { nftnl_gen_nlmsg_parse($0, object) }),
            nftnl_gen_is_set(object, UInt16(NFTNL_GEN_ID))
        else { return nil }
        return nftnl_gen_get_u32(object, UInt16(NFTNL_GEN_ID))
    }

    /// A chain of a GETCHAIN reply: its table and name, how many rules jump to it, and for a base
    /// chain its hook, priority and type (what decides where its rules run, and in which order
    /// against other tables').
    package struct Chain: Equatable, Sendable {
        package var table: String
        package var name: String
        package var use: UInt32
        /// NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT, ...; nil for a regular chain.
        package var hook: UInt32?
        package var priority: Int32?
        /// "nat", "filter", "route".
        package var type: String?

        package var isBase: Bool { hook != nil }
    }

    package static func chain(_ message: [UInt8]) -> Chain? {
        let object = nftnl_chain_alloc()!
        defer { nftnl_chain_free(object) }
        guard parse(message, { nftnl_chain_nlmsg_parse($0, object) }),
            let table = nftnl_chain_get_str(object, UInt16(NFTNL_CHAIN_TABLE.rawValue)),
            let name = nftnl_chain_get_str(object, UInt16(NFTNL_CHAIN_NAME.rawValue))
        else { return nil }
        let based = nftnl_chain_is_set(object, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue))
        let type = nftnl_chain_is_set(object, UInt16(NFTNL_CHAIN_TYPE.rawValue)) ? nftnl_chain_get_str(object, UInt16(NFTNL_CHAIN_TYPE.rawValue)) : nil
        return Chain(
            table: String(cString: table), name: String(cString: name),
            use: nftnl_chain_get_u32(object, UInt16(NFTNL_CHAIN_USE.rawValue)),
            hook: based ? nftnl_chain_get_u32(object, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)) : nil,
            priority: based ? nftnl_chain_get_s32(object, UInt16(NFTNL_CHAIN_PRIO.rawValue)) : nil,
            type: type.map { String(cString: $0) })
    }

    /// A rule of a GETRULE dump, its expressions decoded (`NftExpression.unknown` for kinds the
    /// vocabulary lacks), its handle and nft comment set.
    package static func rule(_ message: [UInt8]) -> NftRule? {
        let object = nftnl_rule_alloc()!
        defer { nftnl_rule_free(object) }
        guard parse(message, { nftnl_rule_nlmsg_parse($0, object) }),
            let table = nftnl_rule_get_str(object, UInt16(NFTNL_RULE_TABLE.rawValue)),
            let chain = nftnl_rule_get_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue))
        else { return nil }
        var expressions: [NftExpression] = []
        let iterator = nftnl_expr_iter_create(object)!
        defer { nftnl_expr_iter_destroy(iterator) }
        while let expression = nftnl_expr_iter_next(iterator) {
            expressions.append(decode(expression))
        }
        var rule = NftRule(table: String(cString: table), chain: String(cString: chain), expressions: expressions)
        if nftnl_rule_is_set(object, UInt16(NFTNL_RULE_HANDLE.rawValue)) {
            rule.handle = nftnl_rule_get_u64(object, UInt16(NFTNL_RULE_HANDLE.rawValue))
        }
        rule.comment = ruleComment(object)
        if nftnl_rule_is_set(object, UInt16(NFTNL_RULE_COMPAT_PROTO.rawValue)) {
            rule.compat = NftRule.Compat(
                proto: nftnl_rule_get_u32(object, UInt16(NFTNL_RULE_COMPAT_PROTO.rawValue)),
                inverted: nftnl_rule_get_u32(object, UInt16(NFTNL_RULE_COMPAT_FLAGS.rawValue)) & UInt32(NFT_RULE_COMPAT_F_INV.rawValue) != 0)
        }
        return rule
    }

    /// What makes a set's type, as a GETSET dump describes it: enough to tell whether a set is
    /// the one a layout declares (`NftSet`'s name, flags, key and data).
    package struct SetType: Equatable, Sendable {
        package var name: String
        package var flags: UInt32
        package var keyType: UInt32
        package var keyLength: UInt32
        package var dataType: UInt32?
        package var dataLength: UInt32?

        package init(name: String, flags: UInt32, keyType: UInt32, keyLength: UInt32, dataType: UInt32?, dataLength: UInt32?) {
            self.name = name
            self.flags = flags
            self.keyType = keyType
            self.keyLength = keyLength
            self.dataType = dataType
            self.dataLength = dataLength
        }

        package init(_ definition: NftSet) {
            self.init(
                name: definition.name, flags: definition.flags, keyType: definition.keyType, keyLength: definition.keyLength,
                dataType: definition.dataType, dataLength: definition.dataLength)
        }
    }

    package static func setType(_ message: [UInt8]) -> SetType? {
        let object = nftnl_set_alloc()!
        defer { nftnl_set_free(object) }
        guard parse(message, { nftnl_set_nlmsg_parse($0, object) }),
            let name = nftnl_set_get_str(object, UInt16(NFTNL_SET_NAME.rawValue))
        else { return nil }
        func u32(_ attribute: nftnl_set_attr) -> UInt32? {
            nftnl_set_is_set(object, UInt16(attribute.rawValue)) ? nftnl_set_get_u32(object, UInt16(attribute.rawValue)) : nil
        }
        return SetType(
            name: String(cString: name), flags: u32(NFTNL_SET_FLAGS) ?? 0, keyType: u32(NFTNL_SET_KEY_TYPE) ?? 0,
            keyLength: u32(NFTNL_SET_KEY_LEN) ?? 0, dataType: u32(NFTNL_SET_DATA_TYPE), dataLength: u32(NFTNL_SET_DATA_LEN))
    }

    /// The name of a set in a GETSET dump.
    package static func setName(_ message: [UInt8]) -> String? {
        let object = nftnl_set_alloc()!
        defer { nftnl_set_free(object) }
        guard parse(message, { nftnl_set_nlmsg_parse($0, object) }),
            let name = nftnl_set_get_str(object, UInt16(NFTNL_SET_NAME.rawValue))
        else { return nil }
        return String(cString: name)
    }

    /// The elements of one message of a GETSETELEM dump: bytes and comment (nil: none).
    package static func elements(_ message: [UInt8]) -> [(bytes: ElementBytes, comment: String?)] {
        elements(message, keeping: { _ in true })
    }

    /// Those elements whose comment `keeping` accepts; the others are skipped before their key and
    /// value are copied out (DEL and GC look for one owner's elements among thousands).
    package static func elements(_ message: [UInt8], keeping: (String?) -> Bool) -> [(bytes: ElementBytes, comment: String?)] {
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        guard parse(message, { nftnl_set_elems_nlmsg_parse($0, set) }) else { return [] }
        var elements: [(bytes: ElementBytes, comment: String?)] = []
        let iterator = nftnl_set_elems_iter_create(set)!
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var next = nftnl_set_elems_iter_next(iterator)
        while let element = next {
            next = nftnl_set_elems_iter_next(iterator)
            let comment = comment(element)
            guard keeping(comment) else { continue }
            let bytes = ElementBytes(
                key: attribute(element, NFTNL_SET_ELEM_KEY) ?? [],
                keyEnd: attribute(element, NFTNL_SET_ELEM_KEY_END),
                data: attribute(element, NFTNL_SET_ELEM_DATA),
                expiration: nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_EXPIRATION))
                    ? nftnl_set_elem_get_u64(element, UInt16(NFTNL_SET_ELEM_EXPIRATION)) : nil)
            elements.append((bytes, comment))
        }
        return elements
    }

    // MARK: - Expressions

    private static func decode(_ expression: OpaquePointer) -> NftExpression {
        let name = nftnl_expr_get_str(expression, UInt16(NFTNL_EXPR_NAME)).map { String(cString: $0) } ?? ""
        func u32(_ attribute: Int) -> UInt32 { nftnl_expr_get_u32(expression, UInt16(attribute)) }
        func has(_ attribute: Int) -> Bool { nftnl_expr_is_set(expression, UInt16(attribute)) }
        func bytes(_ attribute: Int) -> [UInt8] {
            var length: UInt32 = 0
            guard let data = nftnl_expr_get(expression, UInt16(attribute), &length) else { return [] }
            return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
        }
        func string(_ attribute: Int) -> String? {
            guard has(attribute), let text = nftnl_expr_get_str(expression, UInt16(attribute)) else { return nil }
            return String(cString: text)
        }
        switch name {
        case "payload":
            return .payload(
                base: u32(NFTNL_EXPR_PAYLOAD_BASE), offset: u32(NFTNL_EXPR_PAYLOAD_OFFSET), length: u32(NFTNL_EXPR_PAYLOAD_LEN),
                into: u32(NFTNL_EXPR_PAYLOAD_DREG))
        case "meta" where has(NFTNL_EXPR_META_DREG):
            return .meta(key: u32(NFTNL_EXPR_META_KEY), into: u32(NFTNL_EXPR_META_DREG))
        case "ct" where has(NFTNL_EXPR_CT_DREG):
            return .conntrack(key: u32(NFTNL_EXPR_CT_KEY), into: u32(NFTNL_EXPR_CT_DREG))
        case "bitwise" where u32(NFTNL_EXPR_BITWISE_SREG) == u32(NFTNL_EXPR_BITWISE_DREG):
            return .bitwise(
                register: u32(NFTNL_EXPR_BITWISE_SREG), length: u32(NFTNL_EXPR_BITWISE_LEN),
                mask: bytes(NFTNL_EXPR_BITWISE_MASK), xor: bytes(NFTNL_EXPR_BITWISE_XOR))
        case "cmp":
            return .compare(register: u32(NFTNL_EXPR_CMP_SREG), operation: u32(NFTNL_EXPR_CMP_OP), data: bytes(NFTNL_EXPR_CMP_DATA))
        case "fib":
            return .fib(flags: u32(NFTNL_EXPR_FIB_FLAGS), result: u32(NFTNL_EXPR_FIB_RESULT), into: u32(NFTNL_EXPR_FIB_DREG))
        case "lookup":
            return .lookup(
                set: string(NFTNL_EXPR_LOOKUP_SET) ?? "", setID: nil, from: u32(NFTNL_EXPR_LOOKUP_SREG),
                into: has(NFTNL_EXPR_LOOKUP_DREG) ? u32(NFTNL_EXPR_LOOKUP_DREG) : nil)
        case "masq":
            return .masquerade
        case "counter":
            return .counter(
                bytes: nftnl_expr_get_u64(expression, UInt16(NFTNL_EXPR_CTR_BYTES)),
                packets: nftnl_expr_get_u64(expression, UInt16(NFTNL_EXPR_CTR_PACKETS)))
        case "immediate" where u32(NFTNL_EXPR_IMM_DREG) == UInt32(NFT_REG_VERDICT.rawValue):
            return .verdict(code: Int32(bitPattern: u32(NFTNL_EXPR_IMM_VERDICT)), chain: string(NFTNL_EXPR_IMM_CHAIN))
        case "immediate":
            return .immediate(data: bytes(NFTNL_EXPR_IMM_DATA), into: u32(NFTNL_EXPR_IMM_DREG))
        case "nat" where u32(NFTNL_EXPR_NAT_TYPE) == UInt32(NFT_NAT_DNAT.rawValue):
            return .dnat(family: u32(NFTNL_EXPR_NAT_FAMILY), address: u32(NFTNL_EXPR_NAT_REG_ADDR_MIN), port: u32(NFTNL_EXPR_NAT_REG_PROTO_MIN))
        case "match":
            return .match(name: string(NFTNL_EXPR_MT_NAME) ?? "", revision: u32(NFTNL_EXPR_MT_REV), info: bytes(NFTNL_EXPR_MT_INFO))
        case "target":
            return .target(name: string(NFTNL_EXPR_TG_NAME) ?? "", revision: u32(NFTNL_EXPR_TG_REV), info: bytes(NFTNL_EXPR_TG_INFO))
        default:
            return .unknown(name)
        }
    }

    static func attribute(_ element: OpaquePointer, _ attribute: Int) -> [UInt8]? {
        guard nftnl_set_elem_is_set(element, UInt16(attribute)) else { return nil }
        var length: UInt32 = 0
        guard let data = nftnl_set_elem_get(element, UInt16(attribute), &length) else { return nil }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    /// The comment nft keeps in the element's userdata.
    static func comment(_ element: OpaquePointer) -> String? {
        var length: UInt32 = 0
        guard nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_USERDATA)),
            let userdata = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_USERDATA), &length)
        else { return nil }
        return comment(userdata, length, type: UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue))
    }

    /// The comment nft keeps in a rule's userdata (`comment "..."` in `nft list`).
    private static func ruleComment(_ rule: OpaquePointer) -> String? {
        var length: UInt32 = 0
        guard nftnl_rule_is_set(rule, UInt16(NFTNL_RULE_USERDATA.rawValue)),
            let userdata = nftnl_rule_get_data(rule, UInt16(NFTNL_RULE_USERDATA.rawValue), &length)
        else { return nil }
        return comment(userdata, length, type: UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue))
    }

    /// The comment TLV of `type` in userdata (`cni_nft_comment`).
    private static func comment(_ userdata: UnsafeRawPointer, _ length: UInt32, type: UInt8) -> String? {
        let comment = cni_nft_comment(userdata, length, type)
        guard let text = comment.text else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: Int(comment.length)), as: UTF8.self)
    }

    /// Runs a libnftnl parser on `message`; false when it fails.
    static func parse(_ message: [UInt8], _ parser: (UnsafePointer<nlmsghdr>) -> Int32) -> Bool {
        message.withUnsafeBytes { raw in
            raw.count >= MemoryLayout<nlmsghdr>.size && parser(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) >= 0
        }
    }
}
