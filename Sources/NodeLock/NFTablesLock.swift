import PortmapCore

/// The lock the plugin's nf_tables writers take (`flock` on /run/portmap-nftables.lock, or
/// `$PORTMAP_NFTABLES_LOCKFILE`): the nftables backend and the iptables-nft store, held from
/// reading the ruleset to the batch's answer. Both bump the one ruleset generation, so the
/// plugin's instances queue here instead of making each other's batches fail and redo their
/// reads. A writer that does not take it (nft, kube-proxy, iptables-nft) is caught by the
/// batch's generation instead. Not the xtables lock: an iptables-restore of a large legacy
/// ruleset would hold every pod's ADD for as long as it takes.
public enum NFTablesLock {
    public static let defaultPath = "/run/portmap-nftables.lock"
    public static let name = "nftables lock"

    /// The lock file: `$PORTMAP_NFTABLES_LOCKFILE` when set and not empty.
    public static func path(_ environment: [String: String]) -> String {
        NodeLock.path(environment, variable: "PORTMAP_NFTABLES_LOCKFILE", defaultPath: defaultPath)
    }

    /// Runs `body` holding the lock, after waiting up to `timeoutMilliseconds` for it (polling
    /// every 10 ms).
    public static func holding<Value>(
        path: String, timeoutMilliseconds: Int,
        _ body: () throws(BackendError) -> Value
    ) throws(BackendError) -> Value {
        try NodeLock.holding(path: path, name: name, timeoutMilliseconds: timeoutMilliseconds, body)
    }
}
