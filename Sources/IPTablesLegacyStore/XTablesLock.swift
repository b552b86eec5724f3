import IPTablesLayout
import NodeLock
import PortmapCore

/// The lock every iptables-legacy writer takes (`flock` on /run/xtables.lock, or
/// `$XTABLES_LOCKFILE`), held from reading a table to committing it so that no other writer's
/// change is lost in between.
enum XTablesLock {
    static let defaultPath = "/run/xtables.lock"

    /// The lock file: `$XTABLES_LOCKFILE` when set and not empty, as for iptables itself.
    static func path(_ environment: [String: String]) -> String {
        NodeLock.path(environment, variable: "XTABLES_LOCKFILE", defaultPath: defaultPath)
    }

    /// Runs `body` holding the lock, after waiting up to `timeoutMilliseconds` for it (polling
    /// like iptables' `--wait`).
    static func holding<Value>(
        path: String, timeoutMilliseconds: Int,
        _ body: () throws(BackendError) -> Value
    ) throws(BackendError) -> Value {
        try NodeLock.holding(path: path, name: "xtables lock", timeoutMilliseconds: timeoutMilliseconds, body)
    }
}
