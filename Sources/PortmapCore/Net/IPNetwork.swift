/// An address with a prefix length, as CNI results carry them ("10.88.0.5/24").
///
/// `address` keeps the host bits (the container's IP); `network` clears them, which is what a
/// kernel rule must hold: ip_tables compares `(saddr & mask) == src`, so an unmasked source never
/// matches.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.family.addressBits else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// A single address: /32 or /128.
    public init(host address: IPAddress) {
        self.address = address
        self.prefixLength = address.family.addressBits
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
            !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let length = Int(parts[1])
        else { return nil }
        // An IPv4-mapped address written with an IPv6 prefix length keeps the IPv4 host bits.
        let adjusted = (address.family == .ipv4 && parts[0].contains(":")) ? length - 96 : length
        self.init(address: address, prefixLength: adjusted)
    }

    public var family: IPFamily { address.family }

    /// The prefix as a mask, in the same representation as the address.
    public var mask: IPAddress {
        switch address {
        case .v4:
            return .v4(prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength))
        case .v6:
            let high = prefixLength >= 64 ? UInt64.max : (prefixLength == 0 ? 0 : UInt64.max << UInt64(64 - prefixLength))
            let low = prefixLength <= 64 ? 0 : UInt64.max << UInt64(128 - prefixLength)
            return .v6(high, low)
        }
    }

    /// The address with its host bits cleared.
    public var network: IPNetwork {
        let masked: IPAddress
        switch (address, mask) {
        case (.v4(let value), .v4(let bits)): masked = .v4(value & bits)
        case (.v6(let high, let low), .v6(let maskHigh, let maskLow)): masked = .v6(high & maskHigh, low & maskLow)
        default: masked = address
        }
        return IPNetwork(address: masked, prefixLength: prefixLength)!
    }

    /// Builds a network from an address and a contiguous mask, as the kernel stores them; nil for a
    /// non-contiguous mask (which no rule of ours has, and which `iptables-save` prints differently).
    public init?(address: IPAddress, mask: IPAddress) {
        let bits = mask.bytes
        var length = 0
        var seenZero = false
        for byte in bits {
            for shift in stride(from: 7, through: 0, by: -1) {
                if byte >> UInt8(shift) & 1 == 1 {
                    if seenZero { return nil }
                    length += 1
                } else {
                    seenZero = true
                }
            }
        }
        guard address.family == mask.family else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
