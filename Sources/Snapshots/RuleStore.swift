/// Where a layout's rules live in the kernel, named as the operator sees them (`hostports`
/// prints it, and its JSON carries the name as `store`).
public enum RuleStore: String, Sendable, Hashable, CustomStringConvertible {
    /// The legacy x_tables nat tables, as `iptables-legacy-save` lists them.
    case iptablesLegacy = "iptables-legacy"
    /// The nftables backend's own tables.
    case nftables

    public var description: String { rawValue }
}
