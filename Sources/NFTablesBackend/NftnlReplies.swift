internal import CNftnl
import PortmapCore

/// libnftnl's reading half: the messages of the kernel's replies (each whole, as
/// `NetfilterSocket.query` returns them) parsed by `nftnl_*_nlmsg_parse` into Swift values. With
/// `NftnlMessages.swift` the only Swift that calls libnftnl. nil (or nothing) for a message
/// libnftnl cannot parse.
enum NftnlReplies {
    /// NFTA_GEN_ID of an NFT_MSG_NEWGEN.
    static func generation(_ message: [UInt8]) -> UInt32? {
        let object = nftnl_gen_alloc()!
        defer { nftnl_gen_free(object) }
        guard parse(message, { nftnl_gen_nlmsg_parse($0, object) }),
            nftnl_gen_is_set(object, UInt16(NFTNL_GEN_ID))
        else { return nil }
        return nftnl_gen_get_u32(object, UInt16(NFTNL_GEN_ID))
    }

    /// The table and name of a chain in a GETCHAIN dump.
    static func chain(_ message: [UInt8]) -> (table: String, name: String)? {
        let object = nftnl_chain_alloc()!
        defer { nftnl_chain_free(object) }
        guard parse(message, { nftnl_chain_nlmsg_parse($0, object) }),
            let table = nftnl_chain_get_str(object, UInt16(NFTNL_CHAIN_TABLE.rawValue)),
            let name = nftnl_chain_get_str(object, UInt16(NFTNL_CHAIN_NAME.rawValue))
        else { return nil }
        return (String(cString: table), String(cString: name))
    }

    /// The name of a set in a GETSET dump.
    static func setName(_ message: [UInt8]) -> String? {
        let object = nftnl_set_alloc()!
        defer { nftnl_set_free(object) }
        guard parse(message, { nftnl_set_nlmsg_parse($0, object) }),
            let name = nftnl_set_get_str(object, UInt16(NFTNL_SET_NAME.rawValue))
        else { return nil }
        return String(cString: name)
    }

    /// The elements of one message of a GETSETELEM dump: bytes and comment (nil: none).
    static func elements(_ message: [UInt8]) -> [(bytes: ElementBytes, comment: String?)] {
        elements(message, keeping: { _ in true })
    }

    /// Those elements whose comment `keeping` accepts; the others are skipped before their key and
    /// value are copied out (DEL and GC look for one owner's elements among thousands).
    static func elements(_ message: [UInt8], keeping: (String?) -> Bool) -> [(bytes: ElementBytes, comment: String?)] {
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
                data: attribute(element, NFTNL_SET_ELEM_DATA))
            elements.append((bytes, comment))
        }
        return elements
    }

    private static func attribute(_ element: OpaquePointer, _ attribute: Int) -> [UInt8]? {
        guard nftnl_set_elem_is_set(element, UInt16(attribute)) else { return nil }
        var length: UInt32 = 0
        guard let data = nftnl_set_elem_get(element, UInt16(attribute), &length) else { return nil }
        return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }

    /// The comment nft keeps in the element's userdata (`cni_nft_element_comment`).
    private static func comment(_ element: OpaquePointer) -> String? {
        var length: UInt32 = 0
        guard nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_USERDATA)),
            let userdata = nftnl_set_elem_get(element, UInt16(NFTNL_SET_ELEM_USERDATA), &length)
        else { return nil }
        let comment = cni_nft_element_comment(userdata, length)
        guard let text = comment.text else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: Int(comment.length)), as: UTF8.self)
    }

    /// Runs a libnftnl parser on `message`; false when it fails.
    private static func parse(_ message: [UInt8], _ parser: (UnsafePointer<nlmsghdr>) -> Int32) -> Bool {
        message.withUnsafeBytes { raw in
            raw.count >= MemoryLayout<nlmsghdr>.size && parser(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) >= 0
        }
    }
}
