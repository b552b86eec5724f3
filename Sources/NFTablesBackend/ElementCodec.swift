import Nftnl
import PortmapCore

/// An element's key, end of range and value as the kernel stores them: the fields of a
/// concatenation one after the other, each padded to 4 bytes (a register slot); addresses and
/// ports in network order, the protocol a single byte.
/// Plan elements to kernel bytes and back. Pure; the sets' types are `TableLayout`'s.
enum ElementCodec {
    static func encode(_ element: NFTablesElement) -> ElementBytes {
        let data = element.destination.map { $0.address.bytes + port($0.port) }
        switch element.key {
        case .port(let transport, let number):
            return ElementBytes(key: [transport.number, 0, 0, 0] + port(number), data: data)
        case .hostPort(let address, let transport, let number):
            return ElementBytes(key: address.bytes + [transport.number, 0, 0, 0] + port(number), data: data)
        case .sourceToPod(let source, let pod):
            let first = source.network.address.bytes
            let last = zip(first, source.mask.bytes).map { $0 | ~$1 }
            return ElementBytes(key: first + pod.bytes, keyEnd: last + pod.bytes, data: data)
        }
    }

    /// The element `bytes` holds in `set` of `family`'s table; nil when they are not of the set's
    /// type (a table changed by hand), or a range that is no prefix.
    static func decode(_ bytes: ElementBytes, set: NFTablesElement.Set, family: IPFamily, owner: String) -> NFTablesElement? {
        let width = family.addressBits / 8
        let key = bytes.key
        switch set {
        case .hostPortDNAT, .hostIPDNAT:
            let prefix = set == .hostIPDNAT ? width : 0
            guard key.count == prefix + 8, let data = bytes.data, data.count == width + 4,
                let transport = TransportProtocol(number: UInt16(key[prefix])),
                let address = IPAddress(bytes: data[0..<width])
            else { return nil }
            let number = port(key[(prefix + 4)...])
            let destination = NFTablesElement.Destination(address: address, port: port(data[width...]))
            if set == .hostPortDNAT {
                return NFTablesElement(set: set, key: .port(transport, number), destination: destination, owner: owner)
            }
            guard let bound = IPAddress(bytes: key[0..<width]) else { return nil }
            return NFTablesElement(set: set, key: .hostPort(bound, transport, number), destination: destination, owner: owner)
        case .masquerade:
            guard key.count == 2 * width, let end = bytes.keyEnd, end.count == 2 * width, bytes.data == nil,
                key[width...] == end[width...], let pod = IPAddress(bytes: key[width...]),
                let source = prefix(from: key[0..<width], to: end[0..<width])
            else { return nil }
            return NFTablesElement(set: set, key: .sourceToPod(source, pod), owner: owner)
        }
    }

    /// The prefix whose first and last addresses are `first` and `last`; nil for any other range.
    static func prefix(from first: ArraySlice<UInt8>, to last: ArraySlice<UInt8>) -> IPNetwork? {
        let differing = zip(first, last).map { $0 ^ $1 }
        let length = differing.firstIndex { $0 != 0 }.map { $0 * 8 + differing[$0].leadingZeroBitCount } ?? differing.count * 8
        guard let start = IPAddress(bytes: first), let network = IPNetwork(address: start, prefixLength: length) else { return nil }
        // The host bits: all clear in the first address, all set in the last.
        let mask = network.mask.bytes
        guard zip(first, mask).allSatisfy({ $0 & ~$1 == 0 }), zip(last, mask).allSatisfy({ $0 | $1 == 0xFF }) else { return nil }
        return network
    }

    /// A port in network order, padded to its 4-byte slot.
    private static func port(_ number: UInt16) -> [UInt8] {
        [UInt8(number >> 8), UInt8(number & 0xFF), 0, 0]
    }

    private static func port(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        UInt16(bytes[bytes.startIndex]) << 8 | UInt16(bytes[bytes.startIndex + 1])
    }
}
