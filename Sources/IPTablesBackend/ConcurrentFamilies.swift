import OwnThread
import PortmapCore

/// Runs one piece of work per family at the same time: each family's table is read, edited and
/// replaced independently (libip4tc and libip6tc are separate libraries with separate state), and
/// most of a verb's time is the kernel copying and checking whole tables, so the IPv6 table's
/// round no longer waits for the IPv4 one's. The first item runs on the calling thread, every other
/// on a thread of its own; all are waited for, and the first failure in item order is thrown.
enum ConcurrentFamilies {
    static func run<Item: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) throws(BackendError) -> Void) throws(BackendError) {
        guard let first = items.first else { return }
        let others = items.dropFirst().map { item in
            let result = Outcome()
            let thread = try? OwnThread { result.failure = outcome { () throws(BackendError) in try body(item) } }
            return (item, thread, result)
        }
        var failures = [outcome { () throws(BackendError) in try body(first) }]
        for (item, thread, result) in others {
            if let thread {
                thread.join()
                failures.append(result.failure)
            } else {
                // A thread that could not be started: its work is done here, after the others'.
                failures.append(outcome { () throws(BackendError) in try body(item) })
            }
        }
        if let error = failures.compactMap({ $0 }).first { throw error }
    }

    private static func outcome(_ work: () throws(BackendError) -> Void) -> BackendError? {
        do throws(BackendError) {
            try work()
            return nil
        } catch {
            return error
        }
    }

    /// What one item's thread threw, read once the thread is joined.
    private final class Outcome: @unchecked Sendable {
        var failure: BackendError?
    }
}
