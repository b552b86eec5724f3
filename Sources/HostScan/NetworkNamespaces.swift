import Netlink
import OwnThread
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
    /// Runs `body` inside each network namespace of the node but the calling thread's, several
    /// at a time (`concurrentVisits` workers, each a thread that moves from namespace to namespace:
    /// a visit mostly waits on the kernel's dump, and a thread per visit cost as much as the dump),
    /// and returns what it returned in each, in the listing's order. Namespaces are found in /run/netns (and
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
    public static func forEachOther<T>(_ body: @Sendable () throws(HostNetworkError) -> T) throws(HostNetworkError) -> NamespaceScan<T> {
        let ownPath = "/proc/thread-self/ns/net"
        let own = NetworkNamespace(path: ownPath, identity: try FileIdentity(path: ownPath))
        // Entering our own namespace changes nothing but needs the privilege every other entry does.
        if case .failure(let refusal) = try NamespaceThread.run(in: own, {}) {
            guard refusal.reason.errno == .notPermitted else { throw refusal.reason }
            throw HostNetworkError(operation: "enter other network namespaces (this needs CAP_SYS_ADMIN)", errno: EPERM)
        }
        let (namespaces, unreadable) = try NamespaceListing.node.namespaces(other: own.identity)
        // Each worker visits every `workers.count`-th namespace, one after another, and keeps its
        // own outcomes; nothing is shared until they are joined.
        let workers = (0..<min(concurrentVisits, namespaces.count)).map { _ in VisitWorker<T>() }
        var threads: [OwnThread] = []
        var startFailure: OwnThread.StartFailure?
        try withoutActuallyEscaping(body) { (body) throws(HostNetworkError) in
            for (number, worker) in workers.enumerated() {
                do throws(OwnThread.StartFailure) {
                    threads.append(
                        try OwnThread(movingBetweenNetworkNamespaces: { enter in
                            for index in stride(from: number, to: namespaces.count, by: workers.count) where worker.failure == nil {
                                do throws(HostNetworkError) {
                                    switch try NamespaceThread.visit(namespaces[index], entering: enter, body) {
                                    case .success(let value): worker.outcomes.append((index, value))
                                    case .failure: worker.outcomes.append((index, nil))
                                    }
                                } catch {
                                    worker.failure = error
                                }
                            }
                        }))
                } catch {
                    startFailure = error
                    break
                }
            }
            threads.forEach { $0.join() }
        }
        if let startFailure { throw HostNetworkError(operation: "start a thread to visit network namespaces", errno: startFailure.code) }
        if let failure = workers.lazy.compactMap(\.failure).first { throw failure }
        var visits: [NamespaceScan<T>.Visit] = []
        var skipped = unreadable
        for (index, value) in workers.flatMap(\.outcomes).sorted(by: { $0.index < $1.index }) {
            if let value { visits.append(.init(namespace: namespaces[index], value: value)) } else { skipped += 1 }
        }
        return NamespaceScan(visits: visits, skipped: skipped)
    }

    /// How many namespaces are visited at once.
    static let concurrentVisits = 8
}

/// One worker's share of a scan: written by its thread only, read after it is joined.
private final class VisitWorker<T>: @unchecked Sendable {
    var outcomes: [(index: Int, value: T?)] = []
    var failure: HostNetworkError?
}
