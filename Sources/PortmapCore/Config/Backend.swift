/// Which kernel interface writes the rules (`"backend"` in the config).
public enum BackendKind: String, Sendable, Hashable, CaseIterable {
    /// iptables nat tables through libiptc, in the Go plugin's layout (the default).
    case iptables
    /// One nftables table per family owned by the plugin, DNAT through maps (`NFTablesLayout`).
    case nftables

    /// The config keys only this backend reads. Another backend refuses them (code 7) rather
    /// than ignore them: an operator who sets one expects it to take effect.
    public var ownedKeys: [String] {
        switch self {
        case .iptables: ["externalSetMarkChain", "markMasqBit", "conditionsV4", "conditionsV6", "localnetGuard", "iptablesStore"]
        case .nftables: []
        }
    }

    /// Why this backend has no use for `key`, another backend's: the end of the refusal.
    func refusal(ofForeignKey key: String) -> String {
        switch self {
        case .nftables:
            key == "iptablesStore"
                ? "the nftables backend keeps its own table"
                : "the nftables backend has no per-container chains or marks\(key == "localnetGuard" ? " (its table always guards 127.0.0.0/8)" : "")"
        case .iptables:
            "the iptables backend does not read it"
        }
    }
}
