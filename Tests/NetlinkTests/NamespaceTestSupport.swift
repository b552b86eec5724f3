import Foundation
import PortmapCore
import TestSubprocess
import Testing

@testable import HostScan
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the root-only tests need: root itself and a working `ip netns`. nil when they can run;
/// otherwise why they are skipped.
enum RootPrerequisites {
    static let missing = RootProbe.missing(
        needsRootFor: "ip netns, setns, mount",
        programs: [(["ip", "netns", "list"], "`ip netns` does not work here")])

    static var available: Bool { missing == nil }
    static var reason: Comment { Comment(rawValue: missing ?? "") }
}

/// In CI the root-only suites must run: a reason to skip them fails the run instead.
@Test(.enabled(if: RootProbe.inCI)) func rootOnlySuitesRunInCI() {
    #expect(RootPrerequisites.missing == nil, "\(RootPrerequisites.missing ?? "")")
}

extension TestNamespaces {
    /// `nswalk-<tag>-<suffix>` namespaces.
    convenience init() {
        self.init(prefix: "nswalk")
    }

    /// Runs `arguments` inside namespace `name`, with /sys remounted for it.
    func exec(_ name: String, _ arguments: String...) throws {
        try exec(name, arguments)
    }

    /// The identity of the namespace `ip netns` bound at /run/netns/`name`.
    func namespace(_ name: String) throws -> NetworkNamespace {
        let path = "/run/netns/\(name)"
        return NetworkNamespace(path: path, identity: try FileIdentity(path: path))
    }
}

/// The network namespace of the thread that asks.
func threadNamespace() throws(HostNetworkError) -> FileIdentity {
    try FileIdentity(path: "/proc/thread-self/ns/net")
}

/// The addresses of the interfaces in the calling thread's network namespace, by `getifaddrs`
/// (glibc's own netlink dump, independent of this module's).
func interfaceAddresses() throws(HostNetworkError) -> Set<IPAddress> {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { throw .ofLastCall("getifaddrs") }
    defer { freeifaddrs(list) }
    var addresses: Set<IPAddress> = []
    var next = list
    while let entry = next?.pointee {
        next = entry.ifa_next
        guard let socketAddress = entry.ifa_addr else { continue }
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            let address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            addresses.insert(withUnsafeBytes(of: address) { IPAddress(bytes: $0)! })
        case AF_INET6:
            let address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            addresses.insert(withUnsafeBytes(of: address) { IPAddress(bytes: $0)! })
        default:
            continue
        }
    }
    return addresses
}
