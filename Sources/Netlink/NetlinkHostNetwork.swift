import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `HostNetwork` on the real kernel: the conntrack flush over ctnetlink, the route lookup over
/// rtnetlink, and `route_localnet` through /proc/sys. All through libmnl, no external program.
///
/// Sockets are opened by the verb that needs them and closed when it returns; a flush with no
/// destinations opens none. `NetlinkError`s become `HostNetworkError`s here (as in
/// `NetlinkNodeReader`), not below.
public struct NetlinkHostNetwork: HostNetwork, Sendable {
    let openConntrack: NetlinkTransportOpener
    let openRoute: NetlinkTransportOpener
    let procSys: String
    /// Each verb numbers its requests from here; the kernel echoes the number in its replies.
    let firstSequence: UInt32
    let interfaceName: @Sendable (UInt32) -> String?

    /// The host's netlink sockets, and `procSys` as the root of /proc/sys.
    public init(procSys: String = "/proc/sys") {
        self.init(
            openConntrack: { () throws(NetlinkError) in try MnlSocket(.netfilter) },
            openRoute: { () throws(NetlinkError) in try MnlSocket(.route) },
            procSys: procSys,
            firstSequence: UInt32(truncatingIfNeeded: time(nil)),
            interfaceName: Self.systemInterfaceName)
    }

    /// Transports, sequence numbers and interface names injected, for tests.
    init(
        openConntrack: @escaping NetlinkTransportOpener, openRoute: @escaping NetlinkTransportOpener, procSys: String,
        firstSequence: UInt32, interfaceName: @escaping @Sendable (UInt32) -> String?
    ) {
        self.openConntrack = openConntrack
        self.openRoute = openRoute
        self.procSys = procSys
        self.firstSequence = firstSequence
        self.interfaceName = interfaceName
    }

    /// Skips the dump when the namespace tracks no connection at all: a ctnetlink dump walks the
    /// kernel's whole conntrack hash (shared by every namespace), ~9 ms even when it finds nothing.
    public func flushUDPConntrack(family: IPFamily, destinations: [ConntrackDestination]) throws(HostNetworkError) -> Int {
        guard !destinations.isEmpty else { return 0 }
        if let count = try? ProcSysFile.firstLine(of: "\(procSys)/net/netfilter/nf_conntrack_count"), count == "0" {
            return 0
        }
        do {
            return try ConntrackFlush(transport: openConntrack(), firstSequence: firstSequence)
                .run(family: family, destinations: destinations)
        } catch {
            throw error.hostNetworkError
        }
    }

    /// Only IPv4 has `route_localnet`; for an IPv6 `container` there is nothing to enable (nil).
    /// A route out of `lo` (the container address is the host's own) needs no switch either.
    public func enableLocalnetRouting(toward container: IPAddress) throws(HostNetworkError) -> String? {
        guard container.family == .ipv4 else { return nil }
        let index: UInt32?
        do {
            index = try RouteLookup(transport: openRoute(), sequence: firstSequence).outputInterface(toward: container)
        } catch {
            throw error.hostNetworkError
        }
        guard let index, index != Kernel.loopbackInterfaceIndex else { return nil }
        guard let name = interfaceName(index) else {
            throw HostNetworkError(operation: "name interface \(index), the route to \(container)", errno: ENODEV)
        }
        try RouteLocalnetSwitch(procSys: procSys).enable(on: name)
        return name
    }

    /// `if_indextoname`; nil when the interface went away after the lookup.
    static func systemInterfaceName(_ index: UInt32) -> String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(IF_NAMESIZE)) { buffer in
            if_indextoname(index, buffer.baseAddress!).map { String(cString: $0) }
        }
    }
}
