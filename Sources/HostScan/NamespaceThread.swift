import Netlink
import OwnThread
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work done inside another network namespace by a thread of its own: `setns` moves only the
/// calling thread, and this one ends with the work (`run`), or is a scan worker that moves on to
/// the next namespace (`visit`), so no other thread (the caller's least of all) ever changes
/// namespace.
enum NamespaceThread {
    /// Why a namespace was not entered; `run` keeps it apart from the body's own failures.
    struct NotEntered: Error {
        let reason: HostNetworkError
    }

    /// Enters `namespace` on a new thread and runs `body` there. A namespace that cannot be entered
    /// is a `.failure`; what the body throws, or a thread that cannot start, is thrown.
    static func run<T>(
        in namespace: NetworkNamespace,
        _ body: () throws(HostNetworkError) -> T
    ) throws(HostNetworkError) -> Result<T, NotEntered> {
        try withOpened(namespace) { descriptor throws(HostNetworkError) in
            var outcome: Result<T, HostNetworkError>?
            var refused: Int32?
            try withoutActuallyEscaping(body) { (body) throws(HostNetworkError) in
                do throws(OwnThread.NamespaceFailure) {
                    try OwnThread.runInNetworkNamespace(descriptor) {
                        outcome = Result { () throws(HostNetworkError) in try body() }
                    }
                } catch {
                    switch error {
                    case .threadNotStarted(let code):
                        throw HostNetworkError(operation: "start a thread to enter a network namespace", errno: code)
                    case .notMoved(let code):
                        refused = code
                    }
                }
            }
            if let refused { return refusal(namespace, refused) }
            return .success(try outcome!.get())
        }
    }

    /// Moves the calling thread, one `OwnThread(movingBetweenNetworkNamespaces:)` started, into
    /// `namespace` with `enter` and runs `body` there: the walk's workers visit namespace after
    /// namespace on one thread each. Failures as for `run`.
    static func visit<T>(
        _ namespace: NetworkNamespace, entering enter: (Int32) -> Int32,
        _ body: () throws(HostNetworkError) -> T
    ) throws(HostNetworkError) -> Result<T, NotEntered> {
        try withOpened(namespace) { descriptor throws(HostNetworkError) in
            let refused = enter(descriptor)
            return refused == 0 ? .success(try body()) : refusal(namespace, refused)
        }
    }

    /// Runs `body` with the namespace's file open, once it is checked to still be the namespace
    /// that was listed (a pid can be reused, a name deleted and added again).
    private static func withOpened<T>(
        _ namespace: NetworkNamespace, _ body: (Int32) throws(HostNetworkError) -> Result<T, NotEntered>
    ) throws(HostNetworkError) -> Result<T, NotEntered> {
        let descriptor = open(namespace.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(NotEntered(reason: .ofLastCall("open \(namespace.path)"))) }
        defer { close(descriptor) }
        do {
            guard try FileIdentity(descriptor: descriptor, path: namespace.path) == namespace.identity else {
                let operation = "enter \(namespace.path), now another namespace than the one listed"
                return .failure(NotEntered(reason: HostNetworkError(operation: operation, errno: ESRCH)))
            }
        } catch {
            return .failure(NotEntered(reason: error))
        }
        return try body(descriptor)
    }

    private static func refusal<T>(_ namespace: NetworkNamespace, _ code: Int32) -> Result<T, NotEntered> {
        .failure(NotEntered(reason: HostNetworkError(operation: "enter the network namespace of \(namespace.path)", errno: code)))
    }
}
