#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How long a verb keeps redoing a read-edit-commit cycle that lost a race with a writer outside
/// our lock (an `iptables-legacy -A` loop under another lock file, another nft client): a bounded
/// time, not a count, so a busy node costs a few retries more instead of a failed pod; past the
/// budget the verb answers "try again later" (code 11).
public struct CommitRetry {
    /// The time budget from the first attempt.
    public static let budgetMilliseconds = 2_000
    private let deadline: Int
    /// Attempts made so far, for the message when the budget runs out.
    public private(set) var attempts = 1

    public init() {
        deadline = NodeLock.nowMilliseconds() + Self.budgetMilliseconds
    }

    /// After a lost race: waits a jittered, growing 1-48 ms (so the next read sees the other
    /// writer's table instead of racing it again) and returns true, or false once the budget is spent.
    public mutating func backOff() -> Bool {
        guard NodeLock.nowMilliseconds() < deadline else { return false }
        usleep(UInt32.random(in: 1_000...3_000) * UInt32(min(attempts, 16)))
        attempts += 1
        return true
    }
}
