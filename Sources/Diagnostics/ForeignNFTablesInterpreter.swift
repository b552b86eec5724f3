import PortmapCore
import Snapshots

/// Reads another program's nftables table back into hostPort mappings, whoever wrote it: every
/// DNAT of a node port, fixed (`[ip daddr A] tcp dport P dnat to B:Q`) or through a map whose
/// key holds the port (`dnat to ip daddr . tcp dport map @m`), in the chains the table's nat
/// hooks reach. The table's name says whose it is (`owner(of:)`); kube-proxy's Service ports
/// are claims of another kind (`KubeProxyNFTablesInterpreter`).
public enum ForeignNFTablesInterpreter {
    /// Which forwarder keeps a table of this name.
    static func owner(of table: ForeignNFTablesSnapshot) -> PortOwner {
        switch table.name {
        case "kube-proxy": .kubeProxy
        case "netavark": .netavark
        case "crio-hostports", "crio_hostports", "crio": .crio
        default: .unattributed
        }
    }

    /// One table per family the table's mappings (or, for an `ip`/`ip6` table, its family) are in.
    public static func interpret(_ table: ForeignNFTablesSnapshot) -> [HostPortTable] {
        let owner = owner(of: table)
        // kube-proxy's DNATs are to Service endpoints, not node ports: its claims are Service ports.
        guard owner != .kubeProxy else { return [] }
        let reached = reachableChains(table)
        var mappings: [HostPortMapping] = []
        for rule in table.rules {
            mappings += self.mappings(of: rule, in: table, owner: owner, reached: reached.contains(rule.chain))
        }
        let tableFamily: IPFamily? = table.family == "ip" ? .ipv4 : table.family == "ip6" ? .ipv6 : nil
        let families = tableFamily.map { [$0] } ?? IPFamily.allCases.filter { family in mappings.contains { $0.family == family } }
        let nat = table.chains.filter { $0.type == "nat" }
        let prerouting = nat.first { $0.hook == .prerouting }
        return families.map { family in
            HostPortTable(
                owner: owner, family: family, store: .nftables, table: table.label, exists: true,
                entryChain: prerouting?.name ?? "(no prerouting chain)", hookPosition: nil,
                priority: prerouting?.priority ?? HostPortTable.natDestinationPriority,
                preroutingHook: prerouting != nil, outputHook: nat.contains { $0.hook == .output },
                masqueradeHook: table.rules.contains { $0.masquerade },
                entries: [], mappings: mappings.filter { $0.family == family }, orphanChains: [])
        }
    }

    /// The chains a packet can reach from the table's nat prerouting and output hooks: by jumps
    /// and gotos, and through verdict maps' elements.
    static func reachableChains(_ table: ForeignNFTablesSnapshot) -> Set<String> {
        var reached = Set(table.chains.filter { $0.type == "nat" && ($0.hook == .prerouting || $0.hook == .output) }.map(\.name))
        var pending = Array(reached)
        let rulesByChain = Dictionary(grouping: table.rules, by: \.chain)
        while let chain = pending.popLast() {
            for rule in rulesByChain[chain] ?? [] {
                var next: [String] = []
                switch rule.verdict {
                case .jump(let target)?, .goto(let target)?: next.append(target)
                default: break
                }
                if let map = rule.verdictMap { next += (table.set(map)?.elements ?? []).compactMap(\.chain) }
                for target in next where reached.insert(target).inserted { pending.append(target) }
            }
        }
        return reached
    }

    static func mappings(of rule: ForeignNFTablesRule, in table: ForeignNFTablesSnapshot, owner: PortOwner, reached: Bool) -> [HostPortMapping] {
        guard rule.unread.isEmpty, let translation = rule.translation else { return [] }
        // What the rule itself fixes; a map's key may fill in the rest, element by element.
        struct Claim {
            var transport: TransportProtocol?
            var hostIP: IPAddress?
            var hostPort: UInt16?
            var pod: IPAddress?
            var podPort: UInt16?
            var comment: String?
        }
        let fixed = Claim(transport: rule.protocol, hostIP: rule.destination, hostPort: rule.destinationPort, comment: rule.comment)
        var claims: [Claim] = []
        switch translation {
        case .fixed(let address, let port):
            var claim = fixed
            claim.pod = address
            claim.podPort = port ?? rule.destinationPort
            claims.append(claim)
        case .map(let name):
            guard let set = table.set(name), let dataType = set.dataType else { return [] }
            for element in set.elements {
                guard let key = NFTDatatype.decode(element.key, type: set.keyType), let data = element.data,
                    let value = NFTDatatype.decode(data, type: dataType)
                else { continue }
                var claim = fixed
                claim.comment = element.comment ?? rule.comment
                for field in key {
                    switch field {
                    case .address(let address): claim.hostIP = address
                    case .protocol(let transport): claim.transport = transport
                    case .port(let port): claim.hostPort = port
                    }
                }
                for field in value {
                    switch field {
                    case .address(let address): claim.pod = address
                    case .port(let port): claim.podPort = port
                    case .protocol: break
                    }
                }
                claims.append(claim)
            }
        }
        return claims.compactMap { claim in
            guard let transport = claim.transport, let hostPort = claim.hostPort, let pod = claim.pod else { return nil }
            let who = workload(claim.comment, owner: owner)
            return HostPortMapping(
                owner: owner, protocol: transport, family: pod.family, hostIP: claim.hostIP, hostPort: hostPort, podIP: pod,
                podPort: claim.podPort ?? hostPort, network: who.network, containerID: who.containerID, workload: who.workload,
                chain: rule.chain, store: .nftables, table: table.label, entryIndex: reached ? 0 : nil,
                rule: .text("\(rule.chain): \(claim.comment.map { "comment \"\($0)\"" } ?? "dnat") to \(ConflictFinder.endpoint(pod, claim.podPort ?? hostPort))"))
        }
    }

    /// Who a comment names, per owner's convention; unknown conventions keep it as the workload.
    static func workload(_ comment: String?, owner: PortOwner) -> NatForwarderLayout.Claimant {
        guard let comment else { return .init() }
        switch owner {
        case .netavark:
            return NatForwarderLayout.netavark.claimant(comment) ?? .init(workload: comment)
        case .crio:
            return NatForwarderLayout.crio.claimant(comment) ?? .init(workload: comment)
        default:
            return .init(workload: comment)
        }
    }
}
