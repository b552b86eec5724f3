import PortmapCore

/// One family's table of upstream's nftables layout (`UpstreamNFTablesLayout`) as read back for
/// `hostports`: which chains exist, and the rules of the chains holding containers' rules, each
/// with its container ID comment and what it does.
public struct UpstreamNFTablesSnapshot: Sendable, Equatable {
    public var family: IPFamily
    public var exists: Bool
    public var chains: [String]
    /// In chain order (`UpstreamNFTablesLayout.containerChains`), then rule order.
    public var rules: [UpstreamNFTablesRule]

    public init(family: IPFamily, exists: Bool, chains: [String] = [], rules: [UpstreamNFTablesRule] = []) {
        self.family = family
        self.exists = exists
        self.chains = chains
        self.rules = rules
    }
}

/// A rule of upstream's table, decoded from its expressions.
public struct UpstreamNFTablesRule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// `[ip daddr <hostIP>] <protocol> dport <hostPort> dnat to <pod>:<port>`.
        case dnat(TransportProtocol, hostIP: IPAddress?, hostPort: UInt16, pod: IPAddress, podPort: UInt16)
        /// `ip saddr <source> ip daddr <pod> masquerade`.
        case masquerade(source: IPAddress?, pod: IPAddress?)
        /// A rule of another form (not one upstream writes).
        case other
    }

    public var chain: String
    public var containerID: String?
    public var action: Action
    /// The rule as `nft list` would show it, for operators.
    public var text: String

    public init(chain: String, containerID: String?, action: Action, text: String) {
        self.chain = chain
        self.containerID = containerID
        self.action = action
        self.text = text
    }
}
