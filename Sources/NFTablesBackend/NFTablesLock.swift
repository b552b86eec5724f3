import NodeLock
import PortmapCore

/// The lock the plugin's nftables verbs take (`flock` on /run/portmap-nftables.lock, or
/// `$PORTMAP_NFTABLES_LOCKFILE`), held from reading the table to the batch's answer, as the
/// xtables lock is for iptables. It only orders the plugin's own instances: a writer that does
/// not take it (nft, kube-proxy) is caught by the batch's generation instead. Not the xtables lock:
/// no iptables writer touches this table, and an iptables-restore of a large ruleset would hold
/// every pod's ADD for as long as it takes. Released when the value goes away.
struct NFTablesLock: ~Copyable {
    static let defaultPath = "/run/portmap-nftables.lock"

    private let lock: NodeLock

    /// Waits up to `timeoutMilliseconds` for the lock, polling every 10 ms.
    init(path: String, timeoutMilliseconds: Int) throws(BackendError) {
        lock = try NodeLock(path: path, name: "nftables lock", timeoutMilliseconds: timeoutMilliseconds)
    }
}
