import NodeLock
import PortmapCore

/// The lock every iptables-legacy writer takes (`flock` on /run/xtables.lock, or
/// `$XTABLES_LOCKFILE`), held from reading a table to committing it so that no other writer's
/// change is lost in between. Released when the value goes away.
struct XTablesLock: ~Copyable {
    static let defaultPath = "/run/xtables.lock"

    private let lock: NodeLock

    /// Waits up to `timeoutMilliseconds` for the lock, polling like iptables' `--wait`.
    init(path: String, timeoutMilliseconds: Int) throws(BackendError) {
        lock = try NodeLock(path: path, name: "xtables lock", timeoutMilliseconds: timeoutMilliseconds)
    }
}
