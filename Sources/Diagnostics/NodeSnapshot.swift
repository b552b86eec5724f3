import PortmapCore

/// Everything `hostports` knows about the node, read once and then analysed without touching the
/// kernel again: the analysis (mappings, conflicts, the packet path of `explain`) is a pure function
/// of this value, so it is unit-tested on fixed snapshots and the command only has to fill it in.
///
/// Each part is filled by the module that owns its C boundary: the nat tables by `IPTablesBackend`
/// (libiptc), sockets, addresses and routes by `Netlink` (libmnl), the rest from /proc and /sys.
public struct NodeSnapshot: Sendable, Equatable {
    /// The nat table of each family, as found in the legacy xtables (whether or not it exists).
    public var natTables: [NatTableSnapshot]
    /// The nftables backend's table of each family (whether or not it exists).
    public var nftTables: [NFTablesSnapshot]
    /// Sockets listening (TCP) or bound (UDP, SCTP) in the node's network namespace.
    public var listeners: [ListeningSocket]
    /// The addresses of the node's interfaces (in its network namespace), loopback included.
    public var localAddresses: [IPAddress]
    /// The route to each pod address a DNAT leads to (and to the `explain` target's pod).
    public var routes: [IPAddress: RouteFact]
    /// `net.ipv4.conf.<name>.route_localnet`, for `all` and each interface a pod route leaves by.
    public var routeLocalnet: [String: Bool]
    /// Each bridge a pod route leaves by, with its ports' `hairpin_mode`.
    public var bridges: [String: [BridgePort]]
    /// The addresses configured in the node's other network namespaces (the pods'), or nil when
    /// they could not be scanned (e.g. without CAP_SYS_ADMIN): a DNAT to an address no namespace
    /// holds is a pod that is gone.
    public var podNamespaceAddresses: Set<IPAddress>?
    /// Namespaces the scan found but could not enter (gone meanwhile, or not permitted): a pod in
    /// one of them looks gone, which the pod-gone finding then says.
    public var unenteredNamespaces: Int

    public init(natTables: [NatTableSnapshot] = [], nftTables: [NFTablesSnapshot] = [], listeners: [ListeningSocket] = [], localAddresses: [IPAddress] = [],
                routes: [IPAddress: RouteFact] = [:], routeLocalnet: [String: Bool] = [:],
                bridges: [String: [BridgePort]] = [:], podNamespaceAddresses: Set<IPAddress>? = nil,
                unenteredNamespaces: Int = 0) {
        self.natTables = natTables
        self.nftTables = nftTables
        self.listeners = listeners
        self.localAddresses = localAddresses
        self.routes = routes
        self.routeLocalnet = routeLocalnet
        self.bridges = bridges
        self.podNamespaceAddresses = podNamespaceAddresses
        self.unenteredNamespaces = unenteredNamespaces
    }
}

/// One family's nat table, its chains in the kernel's order with their rules decoded.
public struct NatTableSnapshot: Sendable, Equatable {
    public struct Chain: Sendable, Equatable {
        public var name: String
        public var rules: [IPTablesRule]

        public init(name: String, rules: [IPTablesRule]) {
            self.name = name
            self.rules = rules
        }
    }

    public var family: IPFamily
    /// Where the table lives, as shown to the operator: "iptables-legacy".
    public var store: String
    /// False when the table does not exist in the namespace (it is not created to be read).
    public var exists: Bool
    public var chains: [Chain]

    public init(family: IPFamily, store: String = "iptables-legacy", exists: Bool, chains: [Chain] = []) {
        self.family = family
        self.store = store
        self.exists = exists
        self.chains = chains
    }

    public func rules(in chain: String) -> [IPTablesRule]? {
        chains.first { $0.name == chain }?.rules
    }
}

/// A socket that holds a port for real (what `ss -lntu` shows).
public struct ListeningSocket: Sendable, Hashable {
    public struct Owner: Sendable, Hashable {
        public var pid: Int32
        public var command: String

        public init(pid: Int32, command: String) {
            self.pid = pid
            self.command = command
        }
    }

    public var `protocol`: TransportProtocol
    public var family: IPFamily
    /// The bound address; `0.0.0.0` / `::` for every address (an IPv6 wildcard socket without
    /// IPV6_V6ONLY also takes IPv4, which `acceptsIPv4` says).
    public var address: IPAddress
    public var port: UInt16
    public var acceptsIPv4: Bool
    /// The socket's inode, which ties it to the processes that hold it.
    public var inode: UInt32
    public var owners: [Owner]

    public init(protocol: TransportProtocol, family: IPFamily, address: IPAddress, port: UInt16,
                acceptsIPv4: Bool = false, inode: UInt32 = 0, owners: [Owner] = []) {
        self.protocol = `protocol`
        self.family = family
        self.address = address
        self.port = port
        self.acceptsIPv4 = acceptsIPv4
        self.inode = inode
        self.owners = owners
    }
}

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

/// A port of a Linux bridge, from /sys/class/net/<bridge>/brif/<port>/hairpin_mode.
public struct BridgePort: Sendable, Hashable {
    public var name: String
    public var hairpin: Bool

    public init(name: String, hairpin: Bool) {
        self.name = name
        self.hairpin = hairpin
    }
}
