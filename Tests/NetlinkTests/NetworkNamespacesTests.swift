import OwnThread
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

/// The walker on the real kernel, as root: namespaces made by `ip netns` and `unshare`, entered for
/// real by the walker's threads.
@Suite(.enabled(if: RootPrerequisites.available, RootPrerequisites.reason))
struct NetworkNamespacesTests {
    /// What the body saw in a namespace: the namespace its thread was in, and the addresses there.
    struct Seen {
        let namespace: FileIdentity
        let addresses: Set<IPAddress>
    }

    static func scan() throws(HostNetworkError) -> NamespaceScan<Seen> {
        try NetworkNamespaces.forEachOther { () throws(HostNetworkError) in
            Seen(namespace: try threadNamespace(), addresses: try interfaceAddresses())
        }
    }

    @Test func visitsEachNamedNamespaceAndFindsItsAddresses() throws {
        let namespaces = TestNamespaces()
        defer { namespaces.deleteAll() }
        let addresses = ["a": ["192.0.2.11", "2001:db8::11"], "b": ["192.0.2.12", "2001:db8::12"]]
        var expected: [NetworkNamespace: Set<IPAddress>] = [:]
        for (suffix, pair) in addresses {
            let name = try namespaces.add(suffix)
            try Subprocess.check(["ip", "-n", name, "link", "add", "nsw0", "type", "veth", "peer", "name", "nsw1"])
            try Subprocess.check(["ip", "-n", name, "address", "add", "\(pair[0])/24", "dev", "nsw0"])
            try Subprocess.check(["ip", "-n", name, "address", "add", "\(pair[1])/64", "dev", "nsw0", "nodad"])
            expected[try namespaces.namespace(name)] = Set(pair.map { IPAddress($0)! })
        }
        let own = try threadNamespace()
        let scan = try Self.scan()
        #expect(try threadNamespace() == own)
        #expect(!scan.visits.contains { $0.namespace.identity == own })
        #expect(scan.visits.allSatisfy { $0.value.namespace == $0.namespace.identity }, "each visit ran inside its namespace")
        #expect(Set(scan.visits.map(\.namespace)).count == scan.visits.count, "each namespace once")
        for (namespace, addresses) in expected {
            let visits = scan.visits.filter { $0.namespace.identity == namespace.identity }
            #expect(visits.map(\.namespace.path) == [namespace.path])
            #expect(visits.map(\.value.addresses) == [addresses])
        }

        for name in namespaces.names { try namespaces.delete(name) }
        let all = expected.values.reduce(into: Set()) { $0.formUnion($1) }
        let after = try Self.scan()
        #expect(!after.visits.contains { $0.namespace.path.hasPrefix("/run/netns/nswalk-\(namespaces.tag)-") })
        #expect(after.visits.allSatisfy { $0.value.addresses.isDisjoint(with: all) })
        #expect(try threadNamespace() == own)
    }

    /// A namespace held by a process is found through /proc; one that also has a name is visited
    /// once, under its name.
    @Test func processNamespacesAreFoundOnceEach() throws {
        let namespaces = TestNamespaces()
        defer { namespaces.deleteAll() }
        let name = try namespaces.add("p")
        let named = try namespaces.namespace(name)
        let sleeper = ["sh", "-c", "echo ready; exec sleep 60"]
        let namedHolder = try Subprocess.Background(["ip", "netns", "exec", name] + sleeper)
        defer { namedHolder.stop() }
        let unnamedHolder = try Subprocess.Background(["unshare", "--net"] + sleeper)
        defer { unnamedHolder.stop() }
        let inNamed = namedHolder.pid
        let inUnnamed = unnamedHolder.pid
        try Self.waitForSleep(inNamed)
        try Self.waitForSleep(inUnnamed)
        let processPath = "/proc/\(inUnnamed)/ns/net"
        let unnamed = try FileIdentity(path: processPath)
        #expect(try FileIdentity(path: "/proc/\(inNamed)/ns/net") == named.identity)
        #expect(try unnamed != threadNamespace())

        let scan = try Self.scan()
        #expect(scan.visits.filter { $0.namespace.identity == named.identity }.map(\.namespace.path) == [named.path])
        #expect(scan.visits.filter { $0.namespace.identity == unnamed }.map(\.namespace.path) == [processPath])
        #expect(scan.visits.filter { $0.namespace.identity == unnamed }.map(\.value.namespace) == [unnamed])
    }

    /// Waits (up to 5 s) until `pid` has become `sleep`, so it is in the namespace it was started for.
    static func waitForSleep(_ pid: pid_t) throws {
        for _ in 0..<500 {
            if (try? ProcSysFile.firstLine(of: "/proc/\(pid)/comm")) == "sleep" { return }
            usleep(10_000)
        }
        throw Subprocess.Failure(command: ["sleep"], reason: "pid \(pid) did not become sleep within 5 s")
    }
}

/// Without CAP_SYS_ADMIN the scan fails as a whole, rather than finding no namespace. Runs as any
/// user: a thread of its own drops the capability from its effective set, then scans.
struct NamespacePrivilegeTests {
    @Test func withoutCapSysAdminTheScanFails() throws {
        var outcome: Result<NamespaceScan<Void>, HostNetworkError>?
        try OwnThread.run {
            outcome = Result { () throws(HostNetworkError) in
                try dropEffectiveCapability(21)  // CAP_SYS_ADMIN
                return try NetworkNamespaces.forEachOther {}
            }
        }
        #expect(
            throws: HostNetworkError(
                operation: "enter other network namespaces (this needs CAP_SYS_ADMIN)",
                errno: EPERM, message: "Operation not permitted")
        ) {
            try outcome!.get()
        }
    }

    /// capget/capset for the calling thread only. glibc has both but declares neither (libcap
    /// does), so they are looked up by name.
    func dropEffectiveCapability(_ capability: Int) throws(HostNetworkError) {
        typealias Call = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
        guard let getter = dlsym(dlopen(nil, RTLD_NOW), "capget"), let setter = dlsym(dlopen(nil, RTLD_NOW), "capset") else {
            throw HostNetworkError(operation: "find capget and capset", errno: ENOSYS)
        }
        var header: (version: UInt32, pid: Int32) = (0x2008_0522, 0)  // _LINUX_CAPABILITY_VERSION_3, this thread
        var sets = [UInt32](repeating: 0, count: 6)  // two of {effective, permitted, inheritable}
        guard unsafeBitCast(getter, to: Call.self)(&header, &sets) == 0 else { throw .ofLastCall("capget") }
        sets[capability / 32 * 3] &= ~(UInt32(1) << (capability % 32))
        guard unsafeBitCast(setter, to: Call.self)(&header, &sets) == 0 else { throw .ofLastCall("capset") }
    }
}
