/// Where the iptables backend keeps the Go plugin's layout, as `iptablesStore` forces it: the
/// names of the iptables variants that write there.
public enum IPTablesStoreName: String, Sendable, Hashable, CaseIterable {
    /// The legacy x_tables (`iptables-legacy`).
    case legacy
    /// The nf_tables tables iptables-nft manages (`iptables-nft`).
    case nft
}
