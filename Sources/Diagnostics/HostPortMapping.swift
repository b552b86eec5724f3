import PortmapCore
import Snapshots

/// One hostPort as the node enforces it: a DNAT rule in a container's chain, with what the chain's
/// entry rules say about its owner. The unit every `hostports` command reasons about.
public struct HostPortMapping: Sendable, Hashable {
    /// Which implementation wrote the rule.
    public var owner: PortOwner
    public var `protocol`: TransportProtocol
    public var family: IPFamily
    /// The address the DNAT is bound to (`-d <hostIP>/32`), or nil for every local address.
    public var hostIP: IPAddress?
    public var hostPort: UInt16
    public var podIP: IPAddress
    public var podPort: UInt16
    /// From the entry rule's `dnat name: "<network>" id: "<containerID>"` comment; nil when no
    /// entry rule with such a comment jumps to the chain.
    public var network: String?
    public var containerID: String?
    /// The owner's name for what holds the port when it is not a CNI network and container:
    /// CRI-O's pod (`<name>_<namespace>`, from its comments); nil when the rules name nobody.
    public var workload: String?
    /// The container's chain (`CNI-DN-<hash>`).
    public var chain: String
    /// Where the rule lives: the store and the table ("nat").
    public var store: RuleStore
    public var table: String
    /// The position of the first entry rule in CNI-HOSTPORT-DNAT that sends this port here; nil when
    /// none does (the DNAT is never reached). Lower is tried first.
    public var entryIndex: Int?
    /// Whether hairpin traffic (a source in the pod's subnet) is marked for masquerade.
    public var hairpinMasquerade: Bool
    /// Whether traffic from 127.0.0.1 is marked for masquerade (needed for localhost access).
    public var localhostMasquerade: Bool
    /// The DNAT rule in `iptables-save` syntax (an nftables rule's summary for those layouts).
    public var rule: String { ruleText.description }
    public var ruleText: RuleText

    public init(
        owner: PortOwner = .cniPortmap, protocol: TransportProtocol, family: IPFamily, hostIP: IPAddress?, hostPort: UInt16, podIP: IPAddress,
        podPort: UInt16, network: String?, containerID: String?, workload: String? = nil, chain: String, store: RuleStore = .iptablesLegacy,
        table: String = "nat", entryIndex: Int?, hairpinMasquerade: Bool = false, localhostMasquerade: Bool = false,
        rule: RuleText
    ) {
        self.owner = owner
        self.protocol = `protocol`
        self.family = family
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.podIP = podIP
        self.podPort = podPort
        self.network = network
        self.containerID = containerID
        self.workload = workload
        self.chain = chain
        self.store = store
        self.table = table
        self.entryIndex = entryIndex
        self.hairpinMasquerade = hairpinMasquerade
        self.localhostMasquerade = localhostMasquerade
        self.ruleText = rule
    }

    /// Whether a packet to `address` can be taken by this mapping's DNAT.
    public func accepts(_ address: IPAddress) -> Bool {
        address.family == family && (hostIP == nil || hostIP == address)
    }

    /// "0.0.0.0"/"::" style text for operators: the hostIP, or that every address is claimed.
    public var hostIPText: String { hostIP?.description ?? "*" }
}

/// An entry rule of CNI-HOSTPORT-DNAT that jumps to a container chain.
public struct EntryRule: Sendable, Hashable {
    public var index: Int
    public var `protocol`: TransportProtocol?
    /// The multiport (or single) destination ports; empty means every port.
    public var ports: [UInt16]
    public var chain: String
    public var network: String?
    public var containerID: String?
    /// The owner's name when it is not a CNI network and container (CRI-O's pod).
    public var workload: String?
    /// Whether the rule has matches beyond protocol and ports (`conditionsV4/V6`): then it may not
    /// apply to every packet.
    public var conditional: Bool

    public func covers(_ transport: TransportProtocol, port: UInt16) -> Bool {
        (`protocol` == nil || `protocol` == transport) && (ports.isEmpty || ports.contains(port))
    }
}

/// What one family's table says about one owner's hostPorts, interpreted from its rules.
public struct HostPortTable: Sendable, Hashable {
    public var owner: PortOwner = .cniPortmap
    public var family: IPFamily
    public var store: RuleStore
    /// The table's name in its store: "nat", or nft's "ip cni_portmaps".
    public var table: String
    public var exists: Bool
    /// The chain PREROUTING and OUTPUT jump to for this owner's ports (CNI-HOSTPORT-DNAT,
    /// KUBE-HOSTPORTS, DOCKER, ...), named in messages.
    public var entryChain: String = ChainName.topLevelDNAT
    /// The position of PREROUTING's jump to `entryChain`: of two owners in one nat table, the
    /// one jumped to first takes a port both claim. Nil for nftables tables and without a jump.
    public var hookPosition: Int? = nil
    /// The priority of the table's nat chain on the prerouting hook: of two tables, the one
    /// with the lower priority DNATs first.
    public var priority: Int32 = HostPortTable.natDestinationPriority
    /// PREROUTING / OUTPUT jump to CNI-HOSTPORT-DNAT (for packets from outside / from the node).
    public var preroutingHook: Bool
    public var outputHook: Bool
    /// POSTROUTING jumps to CNI-HOSTPORT-MASQ (marked packets are masqueraded).
    public var masqueradeHook: Bool
    public var entries: [EntryRule]
    public var mappings: [HostPortMapping]
    /// `CNI-DN-` chains (or the owner's per-container chains) no entry rule jumps to.
    public var orphanChains: [String]
}

extension HostPortTable {
    /// NF_IP_PRI_NAT_DST: the priority of iptables' nat PREROUTING (either store) and of the CNI
    /// nftables tables' prerouting chains.
    public static let natDestinationPriority: Int32 = -100

    /// The chain an nftables layout's prerouting and output chains jump to (`fib daddr type local`):
    /// ours looks ports up in maps there, upstream's jumps on to its rules; nil for the iptables
    /// layout, whose PREROUTING and OUTPUT jump to CNI-HOSTPORT-DNAT's entry rules.
    public var dispatchChain: String? {
        guard owner == .cniPortmap else { return nil }
        switch store {
        case NFTablesInterpreter.store: return NFTablesLayout.dispatchChain
        case UpstreamNFTablesInterpreter.store: return UpstreamNFTablesInterpreter.dispatchChain
        default: return nil
        }
    }
}
