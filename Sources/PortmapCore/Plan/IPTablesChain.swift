/// A chain of the plan with the rules elsewhere that lead into it, after the Go plugin's `chain`
/// value (chain.go) so that the layout stays recognizably the same.
public struct IPTablesChain: Sendable, Equatable {
    /// How much of the chain this container owns, which decides how ADD reconciles it.
    public enum Ownership: Sendable, Equatable {
        /// Shared by every container (CNI-HOSTPORT-*): created if missing, each rule added if no
        /// identical rule is there; never flushed, so rules others put there survive.
        case shared
        /// This container's own chain (CNI-DN-<hash>): its rules and the entry rules jumping to it
        /// become exactly these, replacing whatever a previous ADD left.
        case container
    }

    public var name: String
    public var ownership: Ownership
    public var rules: [IPTablesRule]
    /// Chains holding the entry rules (each entry rule is placed in each of them).
    public var entryChains: [String]
    /// Rules that jump to this chain; their target is `.jump(name)`.
    public var entryRules: [IPTablesRule]
    /// Insert entry rules at the top instead of appending (CNI-HOSTPORT-MASQ, which must run before
    /// the bridge plugin's own masquerade rules in POSTROUTING).
    public var prependEntry: Bool

    public init(
        name: String, ownership: Ownership, rules: [IPTablesRule] = [], entryChains: [String] = [],
        entryRules: [IPTablesRule] = [], prependEntry: Bool = false
    ) {
        self.name = name
        self.ownership = ownership
        self.rules = rules
        self.entryChains = entryChains
        self.entryRules = entryRules
        self.prependEntry = prependEntry
    }
}

/// Everything one family's tables need for one container, in the order chains must be set up
/// (a jump can only be written once its target chain exists).
public struct IPTablesFamilyPlan: Sendable, Equatable {
    public var family: IPFamily
    /// The nat table: the Go plugin's layout.
    public var chains: [IPTablesChain]
    /// Chains the plan jumps to but does not create (an `externalSetMarkChain`).
    public var requiredChains: [String]
    /// The raw table, which sees packets before conntrack and NAT: the localnet guard.
    public var rawChains: [IPTablesChain]

    public init(family: IPFamily, chains: [IPTablesChain], requiredChains: [String] = [], rawChains: [IPTablesChain] = []) {
        self.family = family
        self.chains = chains
        self.requiredChains = requiredChains
        self.rawChains = rawChains
    }

    /// The container's own chain (the last one in set-up order).
    public var containerChain: IPTablesChain? {
        chains.last { $0.ownership == .container }
    }
}

/// What DEL removes in one family: each named chain and every rule in its entry chain jumping to it.
public struct IPTablesTeardown: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var chain: String
        public var entryChain: String
    }

    public var items: [Item]
}
