import NodeLock
import PortmapCore

/// The lock the plugin's nftables verbs take (`flock` on /run/portmap-nftables.lock, or
/// `$PORTMAP_NFTABLES_LOCKFILE`), held from reading the table to the batch's answer, as the
/// xtables lock is for iptables. It only orders the plugin's own instances: a writer that does
/// not take it (nft, kube-proxy) is caught by the batch's generation instead. Not the xtables lock:
/// no iptables writer touches this table, and an iptables-restore of a large ruleset would hold
/// every pod's ADD for as long as it takes.
enum NFTablesLock {
    static let defaultPath = "/run/portmap-nftables.lock"

    /// Runs `body` holding the lock, after waiting up to `timeoutMilliseconds` for it (polling
    /// every 10 ms).
    static func holding<Value>(
        path: String, timeoutMilliseconds: Int,
        _ body: () throws(BackendError) -> Value
    ) throws(BackendError) -> Value {
        try NodeLock.holding(path: path, name: "nftables lock", timeoutMilliseconds: timeoutMilliseconds, body)
    }
}
