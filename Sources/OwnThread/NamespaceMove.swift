internal import CNetNamespace

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work on a thread of its own in other network namespaces: `unshare` and `setns` move only the
/// calling thread, and this one ends with the work, so no other thread (the caller's least of
/// all) ever changes namespace. The one Swift caller of CNetNamespace.
extension OwnThread {
    /// Why the work did not run: no thread (pthread_create's error), or the thread could not
    /// move (setns's errno).
    public enum NamespaceFailure: Error, Equatable {
        case threadNotStarted(Int32)
        case notMoved(Int32)
    }

    /// Runs `work` on a new thread moved into the network namespace `descriptor` (an open
    /// /proc/<pid>/ns/net or /run/netns/<name>) refers to, and waits for it.
    public static func runInNetworkNamespace(_ descriptor: Int32, _ work: @escaping () -> Void) throws(NamespaceFailure) {
        try run(moving: { cni_enter_network_namespace(descriptor) }, work)
    }

    /// Starts `work` on a new thread that moves itself from one network namespace to the next
    /// with the function it is handed (0, or setns's errno): a walk over a node's thousand
    /// namespaces starts one thread, not one per namespace. The function moves the thread it is
    /// called on, and cannot leave `work`, so only this thread ever moves. Call `join()` once.
    public convenience init(movingBetweenNetworkNamespaces work: @escaping (_ enter: (Int32) -> Int32) -> Void) throws(StartFailure) {
        try self.init { work { descriptor in -cni_enter_network_namespace(descriptor) } }
    }

    /// `move` returns 0 or -errno.
    private static func run(moving move: @escaping () -> Int32, _ work: @escaping () -> Void) throws(NamespaceFailure) {
        var status: Int32 = 0
        do {
            try run {
                status = move()
                if status == 0 { work() }
            }
        } catch {
            throw .threadNotStarted(error.code)
        }
        if status != 0 { throw .notMoved(-status) }
    }
}
