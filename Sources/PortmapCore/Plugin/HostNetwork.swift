/// Node state outside the rule tables that the verbs touch: the conntrack table and the
/// `route_localnet` switch. Reached through netlink and /proc/sys by the `Netlink` module; the
/// plugin decides when (`PortmapPlugin`), the implementation only how.
public protocol HostNetwork {
    /// Deletes the conntrack entries of `family` whose original tuple is UDP to one of
    /// `destinations`; entries that vanish meanwhile count as deleted. Returns how many went.
    func flushUDPConntrack(family: IPFamily, destinations: [ConntrackDestination]) throws(HostNetworkError) -> Int

    /// Sets `net.ipv4.conf.<if>.route_localnet=1` on the host interface that routes to the IPv4
    /// `container`, so `127.0.0.1:hostPort` can be DNATed to it. Returns that interface, or nil
    /// when no interface routes there (nothing to enable).
    func enableLocalnetRouting(toward container: IPAddress) throws(HostNetworkError) -> String?
}

/// UDP to `port`, on `address` only when one is given (a hostIP-bound mapping), else on any address.
public struct ConntrackDestination: Sendable, Hashable {
    public var port: UInt16
    public var address: IPAddress?

    public init(port: UInt16, address: IPAddress? = nil) {
        self.port = port
        self.address = address
    }

    /// The UDP mappings of `config` that apply to `family`, as conntrack destinations: tighter
    /// than upstream, a hostIP-bound mapping only flushes entries to that address.
    public static func udp(of config: PortMapConfig, family: IPFamily) -> [ConntrackDestination] {
        var seen: Set<ConntrackDestination> = []
        return config.portMappings.filter { $0.protocol == .udp && $0.applies(to: family) }
            .map { ConntrackDestination(port: $0.hostPort, address: $0.boundAddress) }
            .filter { seen.insert($0).inserted }
    }
}

/// A netlink or /proc/sys operation that failed: which one, and the system's words for it.
public struct HostNetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno
    public var message: String

    /// `errno` as the C call left it.
    public init(operation: String, errno: Int32, message: String) {
        self.operation = operation
        self.errno = Errno(errno)
        self.message = message
    }

    public var description: String { "\(operation): \(message) (errno \(errno))" }
}
