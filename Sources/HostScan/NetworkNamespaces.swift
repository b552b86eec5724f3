import Netlink
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The node's other network namespaces (the pods', the runtimes' own), visited one by one without
/// the caller moving: `hostports` collects the addresses configured in them, so that a DNAT to an
/// address none of them holds shows as a pod that is gone.
public enum NetworkNamespaces {
    /// Runs `body` inside each network namespace of the node but the calling thread's, one at a
    /// time, and returns what it returned in each. Namespaces are found in /run/netns (and
    /// /var/run/netns when it is another directory), then through every process in /proc, and
    /// each is entered once whichever files lead to it.
    ///
    /// `body` runs on a thread of the walker's own: thread-local state does not carry over, and
    /// only calls that act on the calling thread's namespace (netlink and other sockets opened
    /// there, /proc/thread-self/net, /proc/sys/net) see the namespace visited; /sys/class/net
    /// shows the namespace sysfs was mounted from, whatever thread reads it.
    ///
    /// Throws when this thread may not enter namespaces at all (without CAP_SYS_ADMIN): an empty
    /// scan would then say "no other namespaces" where nothing is known. A namespace that cannot be
    /// entered is skipped and counted; what `body` throws ends the scan and is thrown.
    public static func forEachOther<T>(_ body: () throws(HostNetworkError) -> T) throws(HostNetworkError) -> NamespaceScan<T> {
        let ownPath = "/proc/thread-self/ns/net"
        let own = NetworkNamespace(path: ownPath, identity: try FileIdentity(path: ownPath))
        // Entering our own namespace changes nothing but needs the privilege every other entry does.
        if case .failure(let refusal) = try NamespaceThread.run(in: own, {}) {
            guard refusal.reason.errno == .notPermitted else { throw refusal.reason }
            throw HostNetworkError(operation: "enter other network namespaces (this needs CAP_SYS_ADMIN)", errno: EPERM)
        }
        let (namespaces, unreadable) = try NamespaceListing.node.namespaces(other: own.identity)
        var visits: [NamespaceScan<T>.Visit] = []
        var skipped = unreadable
        for namespace in namespaces {
            switch try NamespaceThread.run(in: namespace, body) {
            case .success(let value): visits.append(.init(namespace: namespace, value: value))
            case .failure: skipped += 1
            }
        }
        return NamespaceScan(visits: visits, skipped: skipped)
    }
}
