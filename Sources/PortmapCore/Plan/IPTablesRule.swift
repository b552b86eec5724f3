/// One iptables rule as structured data: what the planner produces, what the libiptc codec turns
/// into kernel entries, and what reading the kernel back yields (so CHECK compares values, not text).
///
/// The header fields (`-s -d -i -o -p`) live in the kernel entry itself; `matches` and `target`
/// are xtables extensions, in order.
public struct IPTablesRule: Sendable, Hashable {
    public var source: Inverted<IPNetwork>?
    public var destination: Inverted<IPNetwork>?
    public var inInterface: Inverted<String>?
    public var outInterface: Inverted<String>?
    /// IP protocol number (`-p`).
    public var protocolNumber: Inverted<UInt16>?
    public var matches: [IPTablesMatch]
    public var target: IPTablesTarget

    public init(
        source: Inverted<IPNetwork>? = nil, destination: Inverted<IPNetwork>? = nil,
        inInterface: Inverted<String>? = nil, outInterface: Inverted<String>? = nil,
        protocolNumber: Inverted<UInt16>? = nil, matches: [IPTablesMatch] = [], target: IPTablesTarget
    ) {
        self.source = source
        self.destination = destination
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.protocolNumber = protocolNumber
        self.matches = matches
        self.target = target
    }
}

/// The match extensions this plugin writes, plus a carrier for anything else found in a chain.
public enum IPTablesMatch: Sendable, Hashable {
    /// `-m addrtype --dst-type LOCAL`
    case destinationTypeLocal
    /// `-m comment --comment ...`
    case comment(String)
    /// `-m multiport --dports p1,p2,...` (at most 15 ports)
    case multiportDestination([UInt16])
    /// `-m tcp|udp|sctp --dport p`
    case destinationPort(TransportProtocol, UInt16)
    /// `-m mark --mark value/mask`
    case mark(value: UInt32, mask: UInt32)
    /// A match this plugin does not write, kept as read from the kernel.
    case other(name: String, revision: UInt8, data: [UInt8])
}

/// The targets this plugin writes, plus a carrier for anything else found in a chain.
public enum IPTablesTarget: Sendable, Hashable {
    /// `-j <user chain>`
    case jump(String)
    /// `-j ACCEPT|DROP|RETURN|QUEUE`
    case verdict(String)
    /// `-j DNAT --to-destination ip:port`
    case dnat(IPAddress, port: UInt16)
    /// `-j MARK --set-xmark value/mask`
    case setMark(value: UInt32, mask: UInt32)
    /// `-j MASQUERADE`
    case masquerade
    /// A target this plugin does not write, kept as read from the kernel.
    case other(name: String, revision: UInt8, data: [UInt8])

    /// The chain this rule jumps to, if it is a jump.
    public var jumpedChain: String? {
        if case .jump(let chain) = self { return chain }
        return nil
    }
}
