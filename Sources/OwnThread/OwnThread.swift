#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Work on a thread of its own, started at once and waited for with `join()`: for work that must
/// not run on the caller's thread (entering or creating a network namespace moves only the calling
/// thread) or that should run beside it (the two families' tables). The one place the package
/// creates threads.
public final class OwnThread {
    /// pthread_create refused (its error number): no thread was started, `work` will not run.
    public struct StartFailure: Error, Equatable {
        public let code: Int32
    }

    private var thread = pthread_t()

    /// Starts `work` on a new thread. Call `join()` exactly once.
    public init(_ work: @escaping () -> Void) throws(StartFailure) {
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        let started = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        guard started == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            throw StartFailure(code: started)
        }
    }

    /// Waits for the work to end.
    public func join() {
        pthread_join(thread, nil)
    }

    /// Runs `work` on a new thread and waits for it.
    public static func run(_ work: @escaping () -> Void) throws(StartFailure) {
        try OwnThread(work).join()
    }

    /// The work, handed to the thread through its context pointer.
    private final class Work {
        let run: () -> Void

        init(_ run: @escaping () -> Void) {
            self.run = run
        }
    }
}
