import PortmapCore
import Snapshots
import TestSubprocess
import Testing

@testable import HostScan
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The reader against the real kernel, in a namespace of its own (root only): sockets this process
/// opens there are listed with this process as their owner, and the addresses and routes set up
/// with `ip` come back as `ip` would show them.
@Suite(.enabled(if: RootPrerequisites.available, RootPrerequisites.reason))
struct NodeReaderNamespaceTests {
    /// What the reader saw inside the namespace, with what it is checked against.
    struct Observed {
        var listing: [ListeningSocket]
        /// The inodes of the sockets that should be listed, by `fstat`, in listing order.
        var inodes: [UInt32]
        var addresses: [IPAddress]
        /// The same addresses by glibc's `getifaddrs`.
        var interfaceAddresses: Set<IPAddress>
        var routes: [String: RouteFact]
    }

    static let routeTargets = ["198.51.100.9", "192.0.2.1", "198.51.100.7", "2001:db8::1", "2001:db8::9", "2001:db8:7::1"]

    @Test func readsTheNamespace() throws {
        let namespaces = TestNamespaces()
        defer { namespaces.deleteAll() }
        let name = try namespaces.add("reader")
        for command in [
            ["link", "set", "lo", "up"], ["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
            ["link", "set", "d0", "up"], ["link", "set", "d1", "up"],
            ["address", "add", "192.0.2.1/24", "dev", "d0"], ["address", "add", "2001:db8::1/64", "dev", "d0", "nodad"],
            ["route", "add", "198.51.100.0/24", "via", "192.0.2.254"], ["route", "add", "blackhole", "198.51.100.7/32"],
        ] {
            try Subprocess.check(["ip", "-n", name] + command)
        }
        let observed = try NamespaceThread.run(in: namespaces.namespace(name)) { () throws(HostNetworkError) in
            // Listed: TCP listening on 127.0.0.1 and on [::] with V6ONLY; UDP on [::] without V6ONLY.
            let tcp4 = try TestSocket(.tcp, "127.0.0.1", 5001)
            try tcp4.listen()
            let tcp6 = try TestSocket(.tcp, "::", 5004, v6Only: true)
            try tcp6.listen()
            let udp6 = try TestSocket(.udp, "::", 5002, v6Only: false)
            // Not listed: a connected UDP socket, a bound TCP socket that does not listen.
            let connected = try TestSocket(.udp, "127.0.0.1", 5003)
            try connected.connect(to: "127.0.0.1", 5002)
            let bound = try TestSocket(.tcp, "192.0.2.1", 5005)
            let reader = NetlinkNodeReader()
            var routes: [String: RouteFact] = [:]
            for target in Self.routeTargets {
                routes[target] = try reader.route(to: IPAddress(target)!)
            }
            let observed = Observed(
                listing: try reader.listeningSockets(), inodes: [try tcp4.inode(), try tcp6.inode(), try udp6.inode()],
                addresses: try reader.localAddresses(), interfaceAddresses: try interfaceAddresses(), routes: routes)
            withExtendedLifetime((connected, bound)) {}
            return observed
        }.get()

        // This process holds the sockets; so, for a moment, does any child another test forks
        // (it has every descriptor until it execs), which the reader rightly lists too.
        let me = ListeningSocket.Owner(pid: getpid(), command: try ProcSysFile.firstLine(of: "/proc/self/comm"))
        #expect(observed.listing.allSatisfy { $0.owners.contains(me) }, "\(observed.listing.map(\.owners))")
        #expect(
            observed.listing.map { socket in
                var socket = socket
                socket.owners = []
                return socket
            } == [
                ListeningSocket(protocol: .tcp, family: .ipv4, address: IPAddress("127.0.0.1")!, port: 5001, inode: observed.inodes[0]),
                ListeningSocket(protocol: .tcp, family: .ipv6, address: IPAddress("::")!, port: 5004, inode: observed.inodes[1]),
                ListeningSocket(
                    protocol: .udp, family: .ipv6, address: IPAddress("::")!, port: 5002, acceptsIPv4: true,
                    inode: observed.inodes[2]),
            ])

        #expect(Set(observed.addresses) == observed.interfaceAddresses)
        #expect(Set(observed.addresses).count == observed.addresses.count)
        #expect(Set(["127.0.0.1", "::1", "192.0.2.1", "2001:db8::1"].map { IPAddress($0)! }).isSubset(of: Set(observed.addresses)))

        // The FIB entries that match (`ip route get fibmatch`): a local address's names the
        // interface that holds it (a lookup's route would leave by lo).
        #expect(
            observed.routes == [
                "198.51.100.9": RouteFact(kind: .unicast, outputInterface: "d0", gateway: IPAddress("192.0.2.254")),
                "192.0.2.1": RouteFact(kind: .local, outputInterface: "d0"),
                "198.51.100.7": RouteFact(kind: .unreachable),
                "2001:db8::1": RouteFact(kind: .local, outputInterface: "d0"),
                "2001:db8::9": RouteFact(kind: .unicast, outputInterface: "d0"),
                "2001:db8:7::1": RouteFact(kind: .unreachable),
            ])
    }
}

/// A socket of this process, closed on deinit; close-on-exec, so the programs other tests start
/// meanwhile do not hold it too (and show up as its owners).
final class TestSocket {
    let descriptor: Int32

    /// Bound to `address`:`port`, with IPV6_V6ONLY set as given.
    init(_ transport: TransportProtocol, _ address: String, _ port: UInt16, v6Only: Bool? = nil) throws(HostNetworkError) {
        let address = IPAddress(address)!
        let type = transport == .tcp ? SOCK_STREAM : SOCK_DGRAM
        descriptor = socket(address.family == .ipv4 ? AF_INET : AF_INET6, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .ofLastCall("socket") }
        if let v6Only {
            var value: Int32 = v6Only ? 1 : 0
            guard setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw .ofLastCall("setsockopt IPV6_V6ONLY")
            }
        }
        guard Self.withSocketAddress(address, port, { bind(descriptor, $0, $1) }) == 0 else { throw .ofLastCall("bind \(address) \(port)") }
    }

    deinit {
        close(descriptor)
    }

    func listen() throws(HostNetworkError) {
        guard Glibc.listen(descriptor, 8) == 0 else { throw .ofLastCall("listen") }
    }

    func connect(to address: String, _ port: UInt16) throws(HostNetworkError) {
        guard Self.withSocketAddress(IPAddress(address)!, port, { Glibc.connect(descriptor, $0, $1) }) == 0 else {
            throw .ofLastCall("connect")
        }
    }

    /// The socket's inode, the number in its `socket:[…]` link.
    func inode() throws(HostNetworkError) -> UInt32 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .ofLastCall("fstat") }
        return UInt32(status.st_ino)
    }

    private static func withSocketAddress(
        _ address: IPAddress, _ port: UInt16,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        var storage = sockaddr_storage()
        return withUnsafeMutableBytes(of: &storage) { raw in
            if address.family == .ipv4 {
                var ipv4 = sockaddr_in()
                ipv4.sin_family = sa_family_t(AF_INET)
                ipv4.sin_port = port.bigEndian
                withUnsafeMutableBytes(of: &ipv4.sin_addr) { $0.copyBytes(from: address.bytes) }
                raw.storeBytes(of: ipv4, as: sockaddr_in.self)
            } else {
                var ipv6 = sockaddr_in6()
                ipv6.sin6_family = sa_family_t(AF_INET6)
                ipv6.sin6_port = port.bigEndian
                withUnsafeMutableBytes(of: &ipv6.sin6_addr) { $0.copyBytes(from: address.bytes) }
                raw.storeBytes(of: ipv6, as: sockaddr_in6.self)
            }
            let length = address.family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
            return body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(length))
        }
    }
}
