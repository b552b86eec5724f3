import PortmapCore

/// One family's nat table, its chains in the kernel's order with their rules decoded.
public struct NatTableSnapshot: Sendable, Equatable {
    public struct Chain: Sendable, Equatable {
        public var name: String
        /// Empty, not read, when the reader was asked for other chains' rules only.
        public var rules: [IPTablesRule]
        public var rulesRead: Bool

        public init(name: String, rules: [IPTablesRule], rulesRead: Bool = true) {
            self.name = name
            self.rules = rules
            self.rulesRead = rulesRead
        }
    }

    public var family: IPFamily
    /// Where the table lives.
    public var store: RuleStore
    /// False when the table does not exist in the namespace (it is not created to be read).
    public var exists: Bool
    public var chains: [Chain]

    public init(family: IPFamily, store: RuleStore = .iptablesLegacy, exists: Bool, chains: [Chain] = []) {
        self.family = family
        self.store = store
        self.exists = exists
        self.chains = chains
    }

    public func rules(in chain: String) -> [IPTablesRule]? {
        chains.first { $0.name == chain }?.rules
    }
}
