import PortmapCore

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

/// What one read-plan-commit attempt came to: committed (with what the verb returns), or lost
/// a race with a writer outside the lock (with what the kernel said).
public enum CommitAttempt<Value> {
    case committed(Value)
    case lostRace(String)
}

extension CommitRetry {
    /// The cycle every backend's writing verbs run under their lock: `attempt` reads, plans and
    /// commits; one that lost a race is redone after `backOff()` until the budget is spent, and
    /// then `busy` (given the last race and the number of attempts) is thrown, code 11.
    public static func run<Value>(
        _ attempt: () throws(BackendError) -> CommitAttempt<Value>,
        busy: (_ lastRace: String, _ attempts: Int) -> BackendError
    ) throws(BackendError) -> Value {
        var retry = CommitRetry()
        while true {
            switch try attempt() {
            case .committed(let value):
                return value
            case .lostRace(let race):
                guard retry.backOff() else { throw busy(race, retry.attempts) }
            }
        }
    }
}
