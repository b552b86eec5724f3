import PortmapCore

/// A table another program keeps in nf_tables (kube-proxy's, netavark's, CRI-O's, or any table
/// with a nat hook that is neither iptables-nft's nor a CNI portmap's), read whole for
/// `hostports`: its chains with their hooks, its rules summarized, its sets and maps with their
/// elements. Reading it takes no lock and commits nothing.
public struct ForeignNFTablesSnapshot: Sendable, Equatable {
    public struct Chain: Sendable, Equatable {
        public enum Hook: String, Sendable, Equatable {
            case prerouting, input, forward, output, postrouting
        }

        public var name: String
        /// nil for a regular chain (reached only by jumps).
        public var hook: Hook?
        public var priority: Int32?
        /// "nat", "filter", "route".
        public var type: String?

        public init(name: String, hook: Hook? = nil, priority: Int32? = nil, type: String? = nil) {
            self.name = name
            self.hook = hook
            self.priority = priority
            self.type = type
        }
    }

    /// A set or map and its elements, their keys and values as the kernel holds them.
    public struct Set: Sendable, Equatable {
        public struct Element: Sendable, Equatable {
            public var key: [UInt8]
            /// A map's value (a DNAT map's address and port); nil for a set or a verdict map.
            public var data: [UInt8]?
            /// A verdict map's jump or goto target.
            public var chain: String?
            public var comment: String?

            public init(key: [UInt8], data: [UInt8]? = nil, chain: String? = nil, comment: String? = nil) {
                self.key = key
                self.data = data
                self.chain = chain
                self.comment = comment
            }
        }

        public var name: String
        /// nft's datatype of the key (`NFTA_SET_KEY_TYPE`): a concatenation packs one 6-bit
        /// type per field, the first field highest (`NFTDatatype`).
        public var keyType: UInt32
        public var dataType: UInt32?
        public var elements: [Element]

        public init(name: String, keyType: UInt32, dataType: UInt32? = nil, elements: [Element] = []) {
            self.name = name
            self.keyType = keyType
            self.dataType = dataType
            self.elements = elements
        }
    }

    /// "ip", "ip6" or "inet".
    public var family: String
    public var name: String
    public var chains: [Chain]
    public var rules: [ForeignNFTablesRule]
    public var sets: [Set]

    public init(family: String, name: String, chains: [Chain] = [], rules: [ForeignNFTablesRule] = [], sets: [Set] = []) {
        self.family = family
        self.name = name
        self.chains = chains
        self.rules = rules
        self.sets = sets
    }

    /// `nft list` names the table so: "ip kube-proxy", "inet netavark".
    public var label: String { "\(family) \(name)" }

    public func set(_ name: String) -> Set? { sets.first { $0.name == name } }
}

/// What a rule of a foreign table matches and does, as far as port forwarding goes: the
/// matches a DNAT rule carries, the set or map it looks up, its DNAT and its verdict.
public struct ForeignNFTablesRule: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        case jump(String)
        case goto(String)
        case accept, drop, `return`
    }

    /// Where a DNAT takes the packet: fixed (`dnat to A:P`), or looked up in a map
    /// (`dnat to <key> map @name`).
    public enum Translation: Sendable, Equatable {
        case fixed(IPAddress?, port: UInt16?)
        case map(String)
    }

    public var chain: String
    public var comment: String?
    /// From `meta nfproto` in an inet table, or the table's family.
    public var family: IPFamily?
    public var `protocol`: TransportProtocol?
    /// `ip daddr <address>` / `ip6 daddr <address>`.
    public var destination: IPAddress?
    /// `<proto> dport <port>` / `th dport <port>`.
    public var destinationPort: UInt16?
    /// `fib daddr type local`: only packets to one of the node's addresses.
    public var localDestination: Bool
    /// Sets the rule must find the packet in (`ip daddr @nodeport-ips`).
    public var lookups: [String]
    /// `... vmap @name`: the map whose element's verdict decides.
    public var verdictMap: String?
    public var translation: Translation?
    public var masquerade: Bool
    public var verdict: Verdict?
    /// Expressions the summary has no field for (so a rule is never taken for a simpler one).
    public var unread: [String]

    public init(
        chain: String, comment: String? = nil, family: IPFamily? = nil, protocol: TransportProtocol? = nil,
        destination: IPAddress? = nil, destinationPort: UInt16? = nil, localDestination: Bool = false, lookups: [String] = [],
        verdictMap: String? = nil, translation: Translation? = nil, masquerade: Bool = false, verdict: Verdict? = nil,
        unread: [String] = []
    ) {
        self.chain = chain
        self.comment = comment
        self.family = family
        self.protocol = `protocol`
        self.destination = destination
        self.destinationPort = destinationPort
        self.localDestination = localDestination
        self.lookups = lookups
        self.verdictMap = verdictMap
        self.translation = translation
        self.masquerade = masquerade
        self.verdict = verdict
        self.unread = unread
    }
}
