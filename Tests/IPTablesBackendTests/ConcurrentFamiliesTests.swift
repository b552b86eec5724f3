import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The families' work runs at once, every item runs even when another fails, and the failure
/// reported is the first in item order (IPv4 before IPv6), as it was when they ran in turn.
struct ConcurrentFamiliesTests {
    final class Log: @unchecked Sendable {
        private var lock = pthread_mutex_t()
        private(set) var entries: [(IPFamily, pthread_t)] = []

        init() { pthread_mutex_init(&lock, nil) }

        var count: Int {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            return entries.count
        }

        func record(_ family: IPFamily) {
            pthread_mutex_lock(&lock)
            entries.append((family, pthread_self()))
            pthread_mutex_unlock(&lock)
        }
    }

    @Test func eachFamilyOnItsOwnThread() throws {
        let log = Log()
        _ = try ConcurrentFamilies.run(IPFamily.allCases) { family throws(BackendError) in log.record(family) }
        #expect(Set(log.entries.map(\.0)) == [.ipv4, .ipv6])
        #expect(log.entries.count == 2)
        #expect(pthread_equal(log.entries[0].1, log.entries[1].1) == 0, "both ran on one thread")
        #expect(log.entries.contains { $0.0 == .ipv4 && pthread_equal($0.1, pthread_self()) != 0 }, "the first runs on the caller's thread")
    }

    @Test func allRunAndTheFirstFailureInOrderIsThrown() {
        let log = Log()
        #expect(throws: BackendError(.kernel, "ipv4")) {
            try ConcurrentFamilies.run(IPFamily.allCases) { family throws(BackendError) in
                log.record(family)
                throw BackendError(.kernel, family.rawValue)
            }
        }
        #expect(log.entries.count == 2)
        #expect(throws: BackendError(.busy, "ipv6")) {
            try ConcurrentFamilies.run(IPFamily.allCases) { family throws(BackendError) in
                if family == .ipv6 { throw BackendError(.busy, "ipv6") }
            }
        }
    }

    /// Both at once, for real: the second family's work starts before the first's ends.
    @Test func theyOverlap() throws {
        let log = Log()
        _ = try ConcurrentFamilies.run(IPFamily.allCases) { family throws(BackendError) in
            log.record(family)
            // Wait (up to 2 s) until the other family has started too.
            for _ in 0..<200 where log.count < 2 { usleep(10_000) }
            #expect(log.count == 2, "\(family) ran alone")
        }
    }
}
