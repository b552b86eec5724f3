import PortmapCore

/// What the kernel answers to `ip route get <pod IP>` in the node's namespace.
public struct RouteFact: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// A route that leaves by an interface: directly connected, or through `gateway`.
        case unicast
        /// The address is the node's own.
        case local
        /// No route, or an unreachable, blackhole or prohibit route.
        case unreachable
    }

    public var kind: Kind
    public var outputInterface: String?
    public var gateway: IPAddress?

    public init(kind: Kind, outputInterface: String? = nil, gateway: IPAddress? = nil) {
        self.kind = kind
        self.outputInterface = outputInterface
        self.gateway = gateway
    }
}
