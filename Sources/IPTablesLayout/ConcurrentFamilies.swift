import OwnThread
import PortmapCore

/// Runs one piece of work per item at the same time. The legacy store's items are the families:
/// each family's table is read, edited and replaced independently (libip4tc and libip6tc are
/// separate libraries with separate state), and most of a verb's time is the kernel copying and
/// checking whole tables, so the IPv6 table's round no longer waits for the IPv4 one's. The
/// iptables-nft store's snapshot splits its thousands of chain dumps, each a round trip, between
/// sockets. The first item runs on the calling thread, every other on a thread of its own; all are
/// waited for, and the first failure in item order is thrown.
package enum ConcurrentFamilies {
    /// The items' values in item order, once every item succeeded.
    package static func run<Item: Sendable, Value: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) throws(BackendError) -> Value) throws(BackendError)
        -> [Value]
    {
        guard let first = items.first else { return [] }
        let others = items.dropFirst().map { item in
            let outcome = Outcome<Value>()
            let thread = try? OwnThread { outcome.result = result { () throws(BackendError) in try body(item) } }
            return (item, thread, outcome)
        }
        var results = [result { () throws(BackendError) in try body(first) }]
        for (item, thread, outcome) in others {
            thread?.join()
            // No result: the thread could not be started, and its work is done here, after the others'.
            results.append(outcome.result ?? result { () throws(BackendError) in try body(item) })
        }
        return try results.map { outcome throws(BackendError) in try outcome.get() }
    }

    private static func result<Value>(_ work: () throws(BackendError) -> Value) -> Result<Value, BackendError> {
        do throws(BackendError) {
            return .success(try work())
        } catch {
            return .failure(error)
        }
    }

    /// What one item's thread returned or threw, read once the thread is joined.
    private final class Outcome<Value>: @unchecked Sendable {
        var result: Result<Value, BackendError>?
    }
}
