/// The nftables layout: per family, one table owned by the plugin, the same for every container,
/// and per container only set elements. DNAT goes through map lookups keyed by `protocol . port`
/// (every local address) and `hostIP . protocol . port`, so its cost does not grow with the number
/// of pods; base chains are gated by `fib daddr type local`, so transit traffic is never touched.
///
/// ```
/// table ip cni_portmaps {
///     map hostip_dnat { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
///     map hostport_dnat { type inet_proto . inet_service : ipv4_addr . inet_service }
///     set masq_pairs { type ipv4_addr . ipv4_addr; flags interval }
///     chain hostports {
///         dnat ip to ip daddr . meta l4proto . th dport map @hostip_dnat
///         dnat ip to meta l4proto . th dport map @hostport_dnat
///     }
///     chain prerouting { type nat hook prerouting priority dstnat; fib daddr type local jump hostports }
///     chain output { type nat hook output priority -100; fib daddr type local jump hostports }
///     chain postrouting { type nat hook postrouting priority srcnat;
///         ct status dnat ip saddr . ip daddr @masq_pairs masquerade }
///     chain localnet_guard { type filter hook prerouting priority raw;
///         iifname != "lo" ip daddr 127.0.0.0/8 drop }
/// }
/// ```
/// The guard (IPv4 only) is the iptables backend's `localnetGuard`, always on here: a packet to
/// 127.0.0.1 from the node's link also passes `fib daddr type local`.
/// `masq_pairs` holds `source range . pod address` pairs: the pod's subnet (hairpin), 127.0.0.1
/// (IPv4, from the node's loopback) or every address (`masqAll`), each only with `snat`.
/// Every element carries its owner (`NFTablesElement.owner`) as its comment.
public enum NFTablesLayout {
    /// Not `cni_hostport`, the name upstream's nftables backend gives its own layout
    /// (`UpstreamNFTablesLayout`): the two plugins never share a table.
    public static let table = "cni_portmaps"
    /// Where this layout was kept until it was renamed, the name upstream's table has: ADD, DEL
    /// and GC still remove from it the elements of the containers they touch.
    public static let previousTable = UpstreamNFTablesLayout.table
    public static let dispatchChain = "hostports"
    public static let guardChain = "localnet_guard"

    /// Every chain of `family`'s table, in the order the script declares them.
    public static func chains(_ family: IPFamily) -> [String] {
        [dispatchChain, "prerouting", "output", "postrouting"] + (family == .ipv4 ? [guardChain] : [])
    }

    /// How nft names the family's table: `ip cni_portmaps`, `ip6 cni_portmaps` (or `name`'s).
    public static func tableName(_ family: IPFamily, _ name: String = table) -> String {
        "\(family == .ipv4 ? "ip" : "ip6") \(name)"
    }
}

/// One element of the plugin's sets, with the container that owns it.
public struct NFTablesElement: Sendable, Hashable {
    public enum Set: String, Sendable, Hashable, CaseIterable {
        /// `protocol . port : pod address . pod port`, for mappings without a hostIP.
        case hostPortDNAT = "hostport_dnat"
        /// `hostIP . protocol . port : pod address . pod port`.
        case hostIPDNAT = "hostip_dnat"
        /// `source range . pod address`: traffic to masquerade after DNAT.
        case masquerade = "masq_pairs"
    }

    public enum Key: Sendable, Hashable {
        case port(TransportProtocol, UInt16)
        case hostPort(IPAddress, TransportProtocol, UInt16)
        case sourceToPod(IPNetwork, IPAddress)
    }

    public var set: Set
    public var key: Key
    /// The DNAT destination of a map element; nil for `masq_pairs`.
    public var destination: Destination?
    public var owner: String

    public struct Destination: Sendable, Hashable {
        public var address: IPAddress
        public var port: UInt16

        public init(address: IPAddress, port: UInt16) {
            self.address = address
            self.port = port
        }
    }

    public init(set: Set, key: Key, destination: Destination? = nil, owner: String) {
        self.set = set
        self.key = key
        self.destination = destination
        self.owner = owner
    }
}

/// What one container needs in one family's table.
public struct NFTablesFamilyPlan: Sendable, Equatable {
    public var family: IPFamily
    public var elements: [NFTablesElement]

    public init(family: IPFamily, elements: [NFTablesElement]) {
        self.family = family
        self.elements = elements
    }
}
