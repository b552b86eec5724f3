#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// Runs one piece of work per family at the same time: each family's table is read, edited and
/// replaced independently (libip4tc and libip6tc are separate libraries with separate state), and
/// most of a verb's time is the kernel copying and checking whole tables, so the IPv6 table's
/// round no longer waits for the IPv4 one's. The first item runs on the calling thread, every other
/// on a thread of its own; all are waited for, and the first failure in item order is thrown.
enum ConcurrentFamilies {
    static func run<Item: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) throws(BackendError) -> Void) throws(BackendError) {
        guard let first = items.first else { return }
        let workers = items.dropFirst().map { item in
            let worker = Worker { () throws(BackendError) in try body(item) }
            return worker.start() ? worker : nil
        }
        var failures = [outcome { () throws(BackendError) in try body(first) }]
        for (worker, item) in zip(workers, items.dropFirst()) {
            // A thread that could not be started: its work is done here, after the others'.
            failures.append(worker.map { $0.join() } ?? outcome { () throws(BackendError) in try body(item) })
        }
        if let error = failures.compactMap({ $0 }).first { throw error }
    }

    fileprivate static func outcome(_ work: () throws(BackendError) -> Void) -> BackendError? {
        do throws(BackendError) {
            try work()
            return nil
        } catch {
            return error
        }
    }

    /// One item's work on its own thread, with its outcome.
    private final class Worker: @unchecked Sendable {
        let work: () throws(BackendError) -> Void
        var failure: BackendError?
        var thread = pthread_t()

        init(_ work: @escaping () throws(BackendError) -> Void) {
            self.work = work
        }

        /// Starts the thread; false when none could be started.
        func start() -> Bool {
            let context = Unmanaged.passRetained(self).toOpaque()
            let started = pthread_create(&thread, nil, { context in
                let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
                worker.failure = ConcurrentFamilies.outcome(worker.work)
                return nil
            }, context)
            guard started == 0 else {
                Unmanaged<Worker>.fromOpaque(context).release()
                return false
            }
            return true
        }

        /// Waits for the thread; what the work threw.
        func join() -> BackendError? {
            pthread_join(thread, nil)
            return failure
        }
    }
}
