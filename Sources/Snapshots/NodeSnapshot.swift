import PortmapCore

/// Everything `hostports` knows about the node, read once and then analysed without touching the
/// kernel again: the analysis (mappings, conflicts, the packet path of `explain`) is a pure function
/// of this value, so it is unit-tested on fixed snapshots and the command only has to fill it in.
///
/// Each part is filled by the module that owns its C boundary: the tables by each backend's
/// `TableSnapshotReader`, sockets, addresses and routes by `HostScan` over `Netlink` (libmnl),
/// the rest from /proc and /sys.
public struct NodeSnapshot: Sendable, Equatable {
    /// Every backend's tables, each family's whether or not it exists, in the readers' order.
    public var tables: [TableSnapshot]
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

    public init(
        tables: [TableSnapshot] = [], listeners: [ListeningSocket] = [], localAddresses: [IPAddress] = [],
        routes: [IPAddress: RouteFact] = [:], routeLocalnet: [String: Bool] = [:],
        bridges: [String: [BridgePort]] = [:], podNamespaceAddresses: Set<IPAddress>? = nil,
        unenteredNamespaces: Int = 0
    ) {
        self.tables = tables
        self.listeners = listeners
        self.localAddresses = localAddresses
        self.routes = routes
        self.routeLocalnet = routeLocalnet
        self.bridges = bridges
        self.podNamespaceAddresses = podNamespaceAddresses
        self.unenteredNamespaces = unenteredNamespaces
    }
}
