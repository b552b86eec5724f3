import OwnThread
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A network namespace of its own for a trial that must not touch the plugin's: a new thread
/// unshares its network namespace (the rest of the process stays where it is), runs the trial
/// there and ends. The namespace, with every table the trial instantiated or committed in it, is
/// gone once the thread and the trial's handles are.
enum ScratchNetworkNamespace {
    /// Runs `trial` in a fresh, empty network namespace and waits for it. Needs CAP_SYS_ADMIN.
    static func run(_ trial: @escaping () throws(BackendError) -> Void) throws(BackendError) {
        var failure: BackendError?
        do throws(OwnThread.NamespaceFailure) {
            try OwnThread.runInNewNetworkNamespace {
                do throws(BackendError) { try trial() } catch { failure = error }
            }
        } catch {
            switch error {
            case .threadNotStarted(let code):
                throw BackendError(.kernel, "cannot start a thread for a scratch network namespace", details: String(cString: strerror(code)))
            case .notMoved(let code):
                throw BackendError(
                    .kernel, "cannot create a scratch network namespace",
                    details: "unshare(CLONE_NEWNET): \(String(cString: strerror(code)))")
            }
        }
        if let failure { throw failure }
    }
}
