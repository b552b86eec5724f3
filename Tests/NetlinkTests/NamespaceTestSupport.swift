#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Testing
import PortmapCore
@testable import Netlink

/// What the root-only tests need: root itself and a working `ip netns`. nil when they can run;
/// otherwise why they are skipped.
enum RootPrerequisites {
    static let missing: String? = {
        if getuid() != 0 { return "needs root (ip netns, setns, mount)" }
        guard (try? Program.run(["ip", "netns", "list"])) != nil else { return "`ip netns` does not work here" }
        return nil
    }()

    static var available: Bool { missing == nil }
    static var reason: Comment { Comment(rawValue: missing ?? "") }
}

/// Programs the tests set namespaces up with (`ip`, `unshare`), started with `posix_spawnp`; their
/// stdout is discarded, their stderr goes to the test log. (NetlinkTests has no `TestSubprocess`.)
enum Program {
    struct Failure: Error, CustomStringConvertible {
        var command: [String]
        var reason: String
        var description: String { "`\(command.joined(separator: " "))`: \(reason)" }
    }

    /// Runs `arguments` to the end; a failure to start or a non-zero exit is an error.
    static func run(_ arguments: [String]) throws(Failure) {
        let status = wait(for: try start(arguments))
        guard status == 0 else { throw Failure(command: arguments, reason: "exited \(status)") }
    }

    /// Starts `arguments` and returns at once; `stop` ends it.
    static func start(_ arguments: [String]) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard status == 0 else { throw Failure(command: arguments, reason: String(cString: strerror(status))) }
        return pid
    }

    static func stop(_ pid: pid_t) {
        kill(pid, SIGKILL)
        _ = wait(for: pid)
    }

    /// Reaps `pid`: its exit status, or 128 + the signal that ended it.
    private static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + status & 0x7f
    }
}

/// Named network namespaces (`ip netns add`) for one test, with a shared random tag in their names
/// so parallel tests and earlier runs never collide. `deleteAll()` (in a defer) removes them.
final class TestNamespaces {
    let tag = String(UInt32.random(in: 0x1000_0000...0xFFFF_FFFF), radix: 16)
    private(set) var names: [String] = []

    /// Adds `nswalk-<tag>-<suffix>` and returns its name.
    func add(_ suffix: String) throws -> String {
        let name = "nswalk-\(tag)-\(suffix)"
        try Program.run(["ip", "netns", "add", name])
        names.append(name)
        return name
    }

    /// Runs `arguments` inside namespace `name`, with /sys remounted for it.
    func exec(_ name: String, _ arguments: String...) throws {
        try Program.run(["ip", "netns", "exec", name] + arguments)
    }

    /// The identity of the namespace `ip netns` bound at /run/netns/`name`.
    func namespace(_ name: String) throws -> NetworkNamespace {
        let path = "/run/netns/\(name)"
        return NetworkNamespace(path: path, identity: try FileIdentity(path: path))
    }

    func delete(_ name: String) throws {
        try Program.run(["ip", "netns", "delete", name])
        names.removeAll { $0 == name }
    }

    func deleteAll() {
        names.forEach { try? delete($0) }
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
