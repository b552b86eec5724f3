/// The transport protocols a hostPort can map; the ones iptables' multiport match accepts.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable {
    case sctp
    case tcp
    case udp

    /// Parses case-insensitively ("TCP" from Kubernetes is "tcp").
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// The IP protocol number the kernel matches on.
    public var number: UInt8 {
        switch self {
        case .tcp: return 6
        case .udp: return 17
        case .sctp: return 132
        }
    }

    public init?(number: UInt16) {
        guard let found = Self.allCases.first(where: { UInt16($0.number) == number }) else { return nil }
        self = found
    }
}
