import Netlink
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The parts of a `NodeSnapshot` that come from the kernel's netlink buses: listening sockets
/// (sock_diag, their owners from /proc), the namespace's addresses and routes (rtnetlink). All
/// through libmnl, no external program; nothing is changed.
///
/// The network namespace read is the calling thread's: each method opens its socket when called
/// and closes it when it returns, and interface names are resolved in that thread too.
/// `NetlinkError`s become `HostNetworkError`s here, as in `NetlinkHostNetwork`.
public struct NetlinkNodeReader: Sendable {
    let openSocketDiag: NetlinkTransportOpener
    let openRoute: NetlinkTransportOpener
    /// The root of procfs, where socket owners are found.
    let proc: String
    /// Each method numbers its requests from here; the kernel echoes the number in its replies.
    let firstSequence: UInt32
    let interfaceName: @Sendable (UInt32) -> String?

    /// The host's netlink sockets and /proc.
    public init() {
        self.init(
            openSocketDiag: { () throws(NetlinkError) in try MnlSocket(.sockDiag) },
            openRoute: { () throws(NetlinkError) in try MnlSocket(.route) },
            proc: "/proc",
            firstSequence: UInt32(truncatingIfNeeded: time(nil)),
            interfaceName: NetlinkHostNetwork.systemInterfaceName)
    }

    /// Transports, /proc, sequence numbers and interface names injected, for tests.
    init(
        openSocketDiag: @escaping NetlinkTransportOpener, openRoute: @escaping NetlinkTransportOpener, proc: String,
        firstSequence: UInt32, interfaceName: @escaping @Sendable (UInt32) -> String?
    ) {
        self.openSocketDiag = openSocketDiag
        self.openRoute = openRoute
        self.proc = proc
        self.firstSequence = firstSequence
        self.interfaceName = interfaceName
    }

    /// Listening TCP and SCTP sockets and bound, unconnected UDP sockets of both families, in dump
    /// order (TCP, UDP, SCTP; IPv4 before IPv6 in each), each with the processes that hold it.
    public func listeningSockets() throws(HostNetworkError) -> [ListeningSocket] {
        var listeners: [ListeningSocket]
        do {
            listeners = try ListenerDump(transport: openSocketDiag(), firstSequence: firstSequence).run()
        } catch {
            throw error.hostNetworkError
        }
        let owners = try SocketOwners(proc: proc).owners(of: Set(listeners.map(\.inode)))
        for index in listeners.indices {
            listeners[index].owners = owners[listeners[index].inode] ?? []
        }
        return listeners
    }

    /// Every IPv4 and IPv6 address of the namespace's interfaces, loopback included, each once, in
    /// the kernel's order.
    public func localAddresses() throws(HostNetworkError) -> [IPAddress] {
        let replies: [ReplyMessage]
        do {
            replies = try openRoute().exchange(AddressMessages.dumpRequest, sequence: firstSequence, operation: "dump the addresses")
        } catch {
            throw error.hostNetworkError
        }
        var seen: Set<IPAddress> = []
        return replies.compactMap(AddressMessages.address).filter { seen.insert($0).inserted }
    }

    /// What the kernel answers for a packet to `destination`, as `ip route get` shows it.
    public func route(to destination: IPAddress) throws(HostNetworkError) -> RouteFact {
        do {
            return try RouteLookup(transport: openRoute(), sequence: firstSequence)
                .fact(toward: destination, interfaceName: interfaceName)
        } catch {
            throw error.hostNetworkError
        }
    }
}
