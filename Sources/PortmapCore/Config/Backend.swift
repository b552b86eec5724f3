/// Which kernel interface writes the rules (`"backend"` in the config).
public enum BackendKind: String, Sendable, Hashable {
    /// iptables nat tables through libiptc, in the Go plugin's layout (the default).
    case iptables
    /// One nftables table per family owned by the plugin, DNAT through maps (`NFTablesLayout`).
    case nftables
}
