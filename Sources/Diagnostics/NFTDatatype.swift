import PortmapCore

/// nft's datatypes of set keys and map values, enough to read the elements forwarders keep:
/// addresses, protocols and ports, alone or concatenated. A concatenation's type packs one
/// 6-bit type per field, the first field in the highest bits; each field takes a whole number
/// of 32-bit registers in the element.
enum NFTDatatype {
    enum Field: Sendable, Equatable {
        case address(IPAddress)
        case `protocol`(TransportProtocol?)
        case port(UInt16)
    }

    static let typeBits: UInt32 = 6
    static let ipv4Address: UInt32 = 7
    static let ipv6Address: UInt32 = 8
    static let inetProtocol: UInt32 = 12
    static let inetService: UInt32 = 13

    /// The field types of `type`, first field first; nil for a type this reader has no size for.
    static func fields(of type: UInt32) -> [UInt32]? {
        var remaining = type
        var fields: [UInt32] = []
        repeat {
            let field = remaining & ((1 << typeBits) - 1)
            guard [ipv4Address, ipv6Address, inetProtocol, inetService].contains(field) else { return nil }
            fields.insert(field, at: 0)
            remaining >>= typeBits
        } while remaining != 0
        return fields
    }

    /// `bytes` read as fields of `type`; nil when the type is unknown or the bytes too short.
    static func decode(_ bytes: [UInt8], type: UInt32) -> [Field]? {
        guard let types = fields(of: type) else { return nil }
        var offset = 0
        var result: [Field] = []
        for field in types {
            let size = field == ipv6Address ? 16 : field == ipv4Address ? 4 : field == inetProtocol ? 1 : 2
            guard offset + size <= bytes.count else { return nil }
            let slice = Array(bytes[offset..<offset + size])
            switch field {
            case ipv4Address, ipv6Address:
                guard let address = IPAddress(bytes: slice) else { return nil }
                result.append(.address(address))
            case inetProtocol:
                result.append(.protocol(TransportProtocol.allCases.first { $0.number == slice[0] }))
            default:
                result.append(.port(UInt16(slice[0]) << 8 | UInt16(slice[1])))
            }
            offset += (size + 3) / 4 * 4
        }
        return result
    }
}
