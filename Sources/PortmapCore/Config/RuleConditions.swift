/// `conditionsV4` / `conditionsV6`: extra iptables match tokens the Go plugin appends to every entry
/// rule, reduced to the ones with a clear meaning in a rule header.
///
/// `-p` is the one condition that cannot go into the rule as written: each entry rule already
/// matches its own protocol, and iptables takes one `-p` per rule. The rule with both would match
/// the conjunction, so a `-p` condition keeps the entry rules of the protocols it admits, unchanged,
/// and leaves out the others (which could match nothing).
///
/// The Go plugin pastes the tokens into an `iptables` command line; we write rules through libiptc,
/// so each token must be understood. Anything else (`-m ...`, a hostname, an address list) is a
/// config error naming the token, never silently dropped — a dropped condition widens the DNAT.
public struct RuleConditions: Sendable, Hashable {
    public var source: Inverted<IPNetwork>?
    public var destination: Inverted<IPNetwork>?
    public var inInterface: Inverted<String>?
    public var outInterface: Inverted<String>?
    /// `-p` / `! -p`: which protocols' entry rules exist at all.
    public var transport: Inverted<TransportProtocol>?

    public init(
        source: Inverted<IPNetwork>? = nil, destination: Inverted<IPNetwork>? = nil,
        inInterface: Inverted<String>? = nil, outInterface: Inverted<String>? = nil,
        transport: Inverted<TransportProtocol>? = nil
    ) {
        self.source = source
        self.destination = destination
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.transport = transport
    }

    public var isEmpty: Bool { self == RuleConditions() }

    /// Whether the entry rules for `transport` can match under these conditions.
    public func admits(_ candidate: TransportProtocol) -> Bool {
        guard let transport else { return true }
        return (transport.value == candidate) != transport.isInverted
    }

    /// Parses iptables-syntax tokens for one family; `field` names the config key for errors.
    public init(tokens: [String], family: IPFamily, field: String) throws(ConfigError) {
        self.init()
        var seen: Set<String> = []
        var index = 0
        while index < tokens.count {
            let start = index
            var inverted = false
            if tokens[index] == "!" {
                inverted = true
                index += 1
            }
            guard index < tokens.count else {
                throw ConfigError(.invalidValue, field: "\(field)[\(start)]", "\"!\" must be followed by a condition")
            }
            let flag = tokens[index]
            let flagField = "\(field)[\(index)]"
            let key = Self.canonicalFlags[flag] ?? flag
            guard ["-s", "-d", "-i", "-o", "-p"].contains(key) else {
                throw ConfigError(
                    .invalidValue, field: flagField,
                    "\"\(flag.messageExcerpt)\" is not supported; conditions may use -s, -d, -i, -o, -p (each optionally preceded by !)")
            }
            guard index + 1 < tokens.count else {
                throw ConfigError(.invalidValue, field: flagField, "\"\(flag.messageExcerpt)\" needs a value")
            }
            let value = tokens[index + 1]
            index += 2
            guard !seen.contains(key) else {
                throw ConfigError(.invalidValue, field: flagField, "\"\(flag.messageExcerpt)\" given twice")
            }
            seen.insert(key)
            switch key {
            case "-s":
                source = Self.normalized(Inverted(try Self.network(value, family: family, field: flagField), inverted))
            case "-d":
                destination = Self.normalized(Inverted(try Self.network(value, family: family, field: flagField), inverted))
            case "-i":
                inInterface = Inverted(try Self.interface(value, field: flagField), inverted)
            case "-o":
                outInterface = Inverted(try Self.interface(value, field: flagField), inverted)
            default:  // "-p"
                transport = try Self.transport(value, inverted: inverted, field: flagField)
            }
        }
    }

    /// Long and alternative spellings iptables accepts for the supported flags.
    private static let canonicalFlags: [String: String] = [
        "--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d",
        "--in-interface": "-i", "--out-interface": "-o", "--protocol": "-p",
    ]

    /// A protocol a hostPort can map, by name or number; `all` (or 0) alone is no condition.
    private static func transport(_ text: String, inverted: Bool, field: String) throws(ConfigError) -> Inverted<TransportProtocol>? {
        if text.lowercased() == "all" || text == "0" {
            guard !inverted else { throw ConfigError(.invalidValue, field: field, "\"! -p \(text)\" would match no traffic at all") }
            return nil
        }
        guard let parsed = TransportProtocol(name: text) ?? UInt16(text).flatMap({ TransportProtocol(number: $0) }) else {
            throw ConfigError(.invalidValue, field: field, "\"\(text.messageExcerpt)\" is not a protocol a hostPort can map (tcp, udp, sctp)")
        }
        return Inverted(parsed, inverted)
    }

    /// An address with an optional prefix length, of the condition list's family.
    private static func network(_ text: String, family: IPFamily, field: String) throws(ConfigError) -> IPNetwork {
        let parsed = text.contains("/") ? IPNetwork(text) : IPAddress(text).map { IPNetwork(host: $0) }
        guard let network = parsed else {
            throw ConfigError(.invalidValue, field: field, "\"\(text.messageExcerpt)\" is not an address or CIDR (hostnames and lists are not supported)")
        }
        guard network.family == family else {
            throw ConfigError(.invalidValue, field: field, "\"\(text.messageExcerpt)\" is not an \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
        return network.network
    }

    /// `-s 0.0.0.0/0` is stored by the kernel as no match at all; keep the same meaning here so
    /// that a rule read back compares equal to its plan.
    private static func normalized(_ match: Inverted<IPNetwork>) -> Inverted<IPNetwork>? {
        match.value.prefixLength == 0 && !match.isInverted ? nil : match
    }

    /// An interface name, with iptables' trailing '+' wildcard allowed.
    private static func interface(_ name: String, field: String) throws(ConfigError) -> String {
        let valid =
            !name.isEmpty && name.utf8.count <= 15
            && !name.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0 == "!" || $0.properties.isWhitespace }
        guard valid else { throw ConfigError(.invalidValue, field: field, "\"\(name.messageExcerpt)\" is not an interface name") }
        return name
    }
}

/// A match value with iptables' `!` negation.
public struct Inverted<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var isInverted: Bool

    public init(_ value: Value, _ isInverted: Bool = false) {
        self.value = value
        self.isInverted = isInverted
    }
}
