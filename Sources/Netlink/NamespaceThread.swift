#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
internal import CNetNamespace
import OwnThread
import PortmapCore

/// Work done inside another network namespace by a thread of its own: `setns` moves only the
/// calling thread, and this one ends with the work, so no other thread (the caller's least of
/// all) ever changes namespace. The caller waits for it; one namespace at a time.
enum NamespaceThread {
    /// Why a namespace was not entered; `run` keeps it apart from the body's own failures.
    struct NotEntered: Error {
        let reason: HostNetworkError
    }

    /// Enters `namespace` on a new thread and runs `body` there. A namespace that cannot be entered
    /// is a `.failure`; what the body throws, or a thread that cannot start, is thrown.
    static func run<T>(in namespace: NetworkNamespace,
                       _ body: () throws(HostNetworkError) -> T) throws(HostNetworkError) -> Result<T, NotEntered> {
        var outcome: Result<Result<T, NotEntered>, HostNetworkError>?
        try withoutActuallyEscaping(body) { (body) throws(HostNetworkError) in
            do throws(OwnThread.StartFailure) {
                try OwnThread.run {
                    outcome = Result { () throws(HostNetworkError) in
                        if let refusal = enter(namespace) { return .failure(refusal) }
                        return .success(try body())
                    }
                }
            } catch {
                throw HostNetworkError(operation: "start a thread to enter a network namespace", errno: error.code)
            }
        }
        return try outcome!.get()
    }

    /// Opens the namespace's file, checks it still is the namespace that was listed (a pid can be
    /// reused, a name deleted and added again), and moves this thread into it.
    private static func enter(_ namespace: NetworkNamespace) -> NotEntered? {
        let descriptor = open(namespace.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return NotEntered(reason: .ofLastCall("open \(namespace.path)")) }
        defer { close(descriptor) }
        do {
            guard try FileIdentity(descriptor: descriptor, path: namespace.path) == namespace.identity else {
                let operation = "enter \(namespace.path), now another namespace than the one listed"
                return NotEntered(reason: HostNetworkError(operation: operation, errno: ESRCH))
            }
        } catch {
            return NotEntered(reason: error)
        }
        let status = cni_enter_network_namespace(descriptor)
        guard status == 0 else {
            return NotEntered(reason: HostNetworkError(operation: "enter the network namespace of \(namespace.path)", errno: -status))
        }
        return nil
    }
}
