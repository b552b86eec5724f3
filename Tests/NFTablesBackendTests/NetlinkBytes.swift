/// Bytes from hex text; spaces are for the reader.
func hex(_ parts: String...) -> [UInt8] {
    let digits = Array(parts.joined().utf8.filter { $0 != UInt8(ascii: " ") })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// A netlink message taken apart by the tests themselves (not through libmnl or libnftnl): the
/// header's fields, the nfgenmsg, and the top-level attributes, each whole.
struct NetlinkBytes: Equatable {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var portID: UInt32
    /// nfgenmsg: family, version, res_id (as on the wire).
    var family: UInt8
    var resourceID: [UInt8]
    /// Each attribute as type (without the NLA_F_* bits) and its whole TLV, padding dropped.
    var attributes: [(type: UInt16, bytes: [UInt8])]

    static func == (lhs: NetlinkBytes, rhs: NetlinkBytes) -> Bool {
        lhs.type == rhs.type && lhs.flags == rhs.flags && lhs.sequence == rhs.sequence && lhs.portID == rhs.portID
            && lhs.family == rhs.family && lhs.resourceID == rhs.resourceID
            && lhs.attributes.map(\.type) == rhs.attributes.map(\.type) && lhs.attributes.map(\.bytes) == rhs.attributes.map(\.bytes)
    }

    init(_ message: [UInt8]) {
        type = Self.u16(message, 4)
        flags = Self.u16(message, 6)
        sequence = Self.u32(message, 8)
        portID = Self.u32(message, 12)
        family = message.count > 16 ? message[16] : 0
        resourceID = message.count >= 20 ? Array(message[18..<20]) : []
        attributes = []
        var offset = 20
        while offset + 4 <= message.count {
            let length = Int(Self.u16(message, offset))
            guard length >= 4, offset + length <= message.count else { break }
            attributes.append((Self.u16(message, offset + 2) & 0x3FFF, Array(message[offset..<offset + length])))
            offset += (length + 3) & ~3
        }
    }

    /// The payload of the first attribute of `type`.
    func attribute(_ type: UInt16) -> [UInt8]? {
        attributes.first { $0.type == type }.map { Array($0.bytes.dropFirst(4)) }
    }

    /// A NUL-terminated string attribute.
    func string(_ type: UInt16) -> String? {
        attribute(type).map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The messages of a datagram, in order.
    static func split(_ datagram: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(u32(datagram, offset))
            guard length >= 16, offset + length <= datagram.count else { break }
            messages.append(Array(datagram[offset..<offset + length]))
            offset += (length + 3) & ~3
        }
        return messages
    }

    /// `message` with its sequence number replaced (and `flags` when given).
    static func renumbered(_ message: [UInt8], sequence: UInt32, flags: UInt16? = nil) -> [UInt8] {
        var copy = message
        copy.replaceSubrange(8..<12, with: littleEndian(sequence))
        if let flags { copy.replaceSubrange(6..<8, with: littleEndian(UInt32(flags)).prefix(2)) }
        return copy
    }

    static func header(length: Int, type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32 = 0) -> [UInt8] {
        littleEndian(UInt32(length)) + littleEndian(UInt32(type) | UInt32(flags) << 16) + littleEndian(sequence) + littleEndian(portID)
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 { UInt32(u16(bytes, offset)) | UInt32(u16(bytes, offset + 2)) << 16 }
}

/// Kernel control messages, as `netlink_ack` and `netlink_dump_done` write them.
enum Control {
    /// NLMSG_ERROR with `errno` (0: an ACK) and the answered request's header.
    static func error(_ errno: Int32, sequence: UInt32, portID: UInt32 = 0) -> [UInt8] {
        NetlinkBytes.header(length: 36, type: 2, flags: errno == 0 ? 0x100 : 0, sequence: sequence, portID: portID)
            + NetlinkBytes.littleEndian(UInt32(bitPattern: -errno)) + [UInt8](repeating: 0, count: 16)
    }

    /// NLMSG_DONE of a multipart reply.
    static func done(sequence: UInt32, portID: UInt32 = 0) -> [UInt8] {
        NetlinkBytes.header(length: 20, type: 3, flags: 2, sequence: sequence, portID: portID) + [0, 0, 0, 0]
    }
}
