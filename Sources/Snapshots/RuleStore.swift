/// Where a layout's rules live in the kernel, named as the operator sees them (`hostports`
/// prints it, and its JSON carries the name as `store`).
public enum RuleStore: String, Sendable, Hashable, CustomStringConvertible {
    /// The legacy x_tables nat tables, as `iptables-legacy-save` lists them.
    case iptablesLegacy = "iptables-legacy"
    /// The nf_tables tables iptables-nft manages (`ip nat`, `ip6 nat`), as `iptables-nft-save`
    /// lists them.
    case iptablesNFT = "iptables-nft"
    /// The nftables backend's own tables.
    case nftables
    /// Upstream's Go portmap's `"backend": "nftables"` tables (`cni_hostport`).
    case upstreamNFTables = "nftables-upstream"

    public var description: String { rawValue }
}
