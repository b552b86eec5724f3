import Netlink
import PortmapCore
import Snapshots

/// The parts of a `NodeSnapshot` that come from the kernel's netlink buses: listening sockets
/// (sock_diag, their owners from /proc), the namespace's addresses, bridge ports and routes
/// (rtnetlink). All
/// through libmnl, no external program; nothing is changed.
///
/// The network namespace read is the calling thread's, as `NodeDumps` opens its sockets per call.
public struct NetlinkNodeReader: Sendable {
    let dumps: NodeDumps
    /// The root of procfs, where socket owners are found.
    let proc: String

    /// The host's netlink sockets and /proc.
    public init() {
        self.init(dumps: NodeDumps(), proc: "/proc")
    }

    /// Dumps and /proc injected, for tests.
    init(dumps: NodeDumps, proc: String) {
        self.dumps = dumps
        self.proc = proc
    }

    /// Listening TCP and SCTP sockets and bound, unconnected UDP sockets of both families, in dump
    /// order (TCP, UDP, SCTP; IPv4 before IPv6 in each), each with the processes that hold it.
    public func listeningSockets() throws(HostNetworkError) -> [ListeningSocket] {
        var listeners = try dumps.listeningSockets()
        let owners = try SocketOwners(proc: proc).owners(of: Set(listeners.map(\.inode)))
        for index in listeners.indices {
            listeners[index].owners = owners[listeners[index].inode] ?? []
        }
        return listeners
    }

    /// Every IPv4 and IPv6 address of the namespace's interfaces, loopback included, each once, in
    /// the kernel's order.
    public func localAddresses() throws(HostNetworkError) -> [IPAddress] {
        try dumps.localAddresses()
    }

    /// The ports of every bridge with their hairpin mode, by the bridge's name; a bridge without
    /// ports is not there.
    public func bridgePorts() throws(HostNetworkError) -> [String: [BridgePort]] {
        try dumps.bridgePorts()
    }

    /// What the kernel answers for a packet to `destination`, as `ip route get` shows it.
    public func route(to destination: IPAddress) throws(HostNetworkError) -> RouteFact {
        try routes(to: [destination])[destination]!.get()
    }

    /// The route to each destination over one socket (`route(to:)` opens one per call).
    public func routes(to destinations: [IPAddress]) throws(HostNetworkError) -> [IPAddress: Result<RouteFact, HostNetworkError>] {
        try dumps.routes(to: destinations)
    }
}
