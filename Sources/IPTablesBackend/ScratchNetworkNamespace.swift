#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CNetNamespace
import PortmapCore

/// A network namespace of its own for a trial that must not touch the plugin's: a new thread
/// unshares its network namespace (the rest of the process stays where it is), runs the trial
/// there and ends. The namespace, with every table the trial instantiated or committed in it, is
/// gone once the thread and the trial's handles are.
enum ScratchNetworkNamespace {
    /// Runs `trial` in a fresh, empty network namespace and waits for it. Needs CAP_SYS_ADMIN.
    static func run(_ trial: @escaping () throws(BackendError) -> Void) throws(BackendError) {
        let job = Job(trial)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<Job>.fromOpaque(context).release()
            throw BackendError(.kernel, "cannot start a thread for a scratch network namespace", details: String(cString: strerror(started)))
        }
        pthread_join(thread, nil)
        try job.outcome.get()
    }

    /// The trial and its outcome, handed to the thread through its context pointer.
    private final class Job {
        let trial: () throws(BackendError) -> Void
        var outcome: Result<Void, BackendError> = .success(())

        init(_ trial: @escaping () throws(BackendError) -> Void) {
            self.trial = trial
        }

        func run() {
            let status = cni_unshare_network_namespace()
            guard status == 0 else {
                outcome = .failure(BackendError(.kernel, "cannot create a scratch network namespace",
                                                details: "unshare(CLONE_NEWNET): \(String(cString: strerror(-status)))"))
                return
            }
            do {
                try trial()
            } catch {
                outcome = .failure(error)
            }
        }
    }
}
