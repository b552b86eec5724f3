/// Which kernel interface writes the rules (`"backend"` in the config).
public enum BackendKind: String, Sendable, Hashable {
    /// iptables nat tables through libiptc, in the Go plugin's layout (the default).
    case iptables
    /// Recognized so that a config written for it fails clearly (code 2) until it exists here.
    case nftables
}
