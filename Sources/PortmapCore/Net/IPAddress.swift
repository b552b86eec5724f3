/// An IPv4 or IPv6 address, parsed and printed without libc so the core stays pure.
///
/// Parsing is strict, as Go's `net.ParseIP` is since Go 1.17: no leading zeros in IPv4 octets, no
/// zones, no short forms like "1.2.3". An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4
/// address, again as in Go, so a hostIP written either way selects the same family.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public init?(_ text: String) {
        if text.contains(":") {
            guard let (high, low) = Self.parseIPv6(Array(text.utf8)) else { return nil }
            if high == 0, low >> 32 == 0xFFFF { self = .v4(UInt32(truncatingIfNeeded: low)) } else { self = .v6(high, low) }
        } else {
            guard let value = Self.parseIPv4(Array(text.utf8)[...]) else { return nil }
            self = .v4(value)
        }
    }

    public var family: IPFamily {
        if case .v4 = self { return .ipv4 }
        return .ipv6
    }

    /// 0.0.0.0 and ::, which select a family but no address.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let value): return value == 0
        case .v6(let high, let low): return high == 0 && low == 0
        }
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value): return Self.bigEndianBytes(UInt64(value), count: 4)
        case .v6(let high, let low): return Self.bigEndianBytes(high, count: 8) + Self.bigEndianBytes(low, count: 8)
        }
    }

    /// Builds an address from network-order bytes (4 or 16 of them). Inlinable, and one pass
    /// without a copy: the libiptc and netlink decoders call it for every address they read, and
    /// unspecialized across modules it was a third of a DEL's instructions on a 100-pod node.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        for byte in bytes {
            guard count < 16 else { return nil }
            if count < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            count += 1
        }
        switch count {
        case 4: self = .v4(UInt32(truncatingIfNeeded: high))
        case 16: self = .v6(high, low)
        default: return nil
        }
    }

    /// The canonical text: dotted quad, or RFC 5952 IPv6 (as glibc's inet_ntop and Go print it).
    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
        case .v6(let high, let low):
            return Self.formatIPv6(high: high, low: low)
        }
    }

    // MARK: - Parsing

    private static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | current
                octets += 1
                current = 0
                digits = 0
            } else if byte >= 0x30 && byte <= 0x39 {
                if digits > 0 && current == 0 { return nil }  // leading zero
                current = current * 10 + UInt32(byte - 0x30)
                digits += 1
                guard current <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | current
    }

    private static func parseIPv6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gap: Int? = nil
        var index = 0
        if bytes.starts(with: [0x3A, 0x3A]) {
            gap = 0
            index = 2
        } else if bytes.first == 0x3A {
            return nil
        }
        while index < bytes.count {
            // An embedded IPv4 tail ends the address.
            var end = index
            while end < bytes.count && bytes[end] != 0x3A { end += 1 }
            let field = bytes[index..<end]
            if field.contains(UInt8(ascii: ".")) {
                guard end == bytes.count, let v4 = parseIPv4(field) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                index = end
                break
            }
            guard (1...4).contains(field.count) else { return nil }
            var group: UInt16 = 0
            for byte in field {
                guard let nibble = hexValue(byte) else { return nil }
                group = group << 4 | UInt16(nibble)
            }
            groups.append(group)
            index = end
            if index < bytes.count {
                index += 1  // the ':'
                if index < bytes.count && bytes[index] == 0x3A {
                    guard gap == nil else { return nil }
                    gap = groups.count
                    index += 1
                } else if index == bytes.count {
                    return nil  // trailing single ':'
                }
            }
            guard groups.count <= 8 else { return nil }
        }
        if let gap {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }

    // MARK: - Formatting

    private static func formatIPv6(high: UInt64, low: UInt64) -> String {
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (16 * (3 - UInt64(index % 4))))
        }
        // Longest run of two or more zero groups (the first on a tie) becomes "::".
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        if best.length < 2 { best = (-1, 0) }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if best.start < 0 { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
    }

    private static func bigEndianBytes(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
    }
}

/// The two address families; each has its own nat table (iptables / ip6tables).
public enum IPFamily: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    case ipv4
    case ipv6

    /// The raw value: without it an interpolated family went through reflection (Mirror), a
    /// tenth of STATUS's own time.
    public var description: String { rawValue }

    public static func < (lhs: IPFamily, rhs: IPFamily) -> Bool { lhs == .ipv4 && rhs == .ipv6 }

    /// Host prefix length: /32 or /128.
    public var addressBits: Int { self == .ipv4 ? 32 : 128 }
}
