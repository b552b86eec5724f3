import PortmapCore
import Snapshots

/// Reads the Go plugin's nat layout (which this plugin writes too) back into hostPort mappings:
/// entry rules in CNI-HOSTPORT-DNAT name the owner and the ports, the `CNI-DN-` chain they jump
/// to holds the mark rules and one DNAT per mapping.
public enum LegacyNatInterpreter {
    static let containerChainPrefix = "CNI-DN-"

    public static func interpret(_ snapshot: NatTableSnapshot) -> HostPortTable {
        func jumps(_ chain: String, to target: String) -> Bool {
            snapshot.rules(in: chain)?.contains { $0.target.jumpedChain == target } ?? false
        }
        let entries = (snapshot.rules(in: ChainName.topLevelDNAT) ?? []).enumerated().compactMap { index, rule in
            entryRule(rule, index: index)
        }
        var mappings: [HostPortMapping] = []
        var orphans: [String] = []
        for chain in snapshot.chains where chain.name.hasPrefix(containerChainPrefix) {
            let owners = entries.filter { $0.chain == chain.name }
            if owners.isEmpty { orphans.append(chain.name) }
            mappings += self.mappings(in: chain, entries: owners, family: snapshot.family, store: snapshot.store)
        }
        return HostPortTable(
            family: snapshot.family, store: snapshot.store, table: "nat", exists: snapshot.exists,
            preroutingHook: jumps("PREROUTING", to: ChainName.topLevelDNAT),
            outputHook: jumps("OUTPUT", to: ChainName.topLevelDNAT),
            masqueradeHook: jumps("POSTROUTING", to: ChainName.markMasquerade),
            entries: entries, mappings: mappings, orphanChains: orphans)
    }

    static func entryRule(_ rule: IPTablesRule, index: Int) -> EntryRule? {
        guard let chain = rule.target.jumpedChain, chain.hasPrefix(containerChainPrefix) else { return nil }
        var ports: [UInt16] = []
        var owner: (network: String, containerID: String?)?
        var conditional =
            rule.source != nil || rule.destination != nil || rule.inInterface != nil
            || rule.outInterface != nil || rule.protocolNumber?.isInverted == true
        for match in rule.matches {
            switch match {
            case .multiportDestination(let list): ports = list
            case .destinationPort(_, let port): ports = [port]
            case .comment(let text): owner = owner ?? DNATComment.owner(text)
            default: conditional = true
            }
        }
        let transport = rule.protocolNumber.flatMap { $0.isInverted ? nil : TransportProtocol(number: $0.value) }
        return EntryRule(
            index: index, protocol: transport, ports: ports, chain: chain, network: owner?.network,
            containerID: owner?.containerID, conditional: conditional, rule: rule.saveLine(chain: ChainName.topLevelDNAT))
    }

    /// One mapping per DNAT rule of a container chain; the mark rules before it for the same port
    /// tell whether hairpin and localhost traffic is masqueraded.
    static func mappings(in chain: NatTableSnapshot.Chain, entries: [EntryRule], family: IPFamily, store: RuleStore) -> [HostPortMapping] {
        var result: [HostPortMapping] = []
        for (index, rule) in chain.rules.enumerated() {
            guard case .dnat(let podIP, let podPort) = rule.target,
                let (transport, hostPort) = destinationPort(of: rule)
            else { continue }
            let hostIP = rule.destination.flatMap { match -> IPAddress? in
                match.isInverted || match.value.prefixLength != family.addressBits ? nil : match.value.address
            }
            let marks = chain.rules[..<index].filter { mark in
                mark.target.jumpedChain != nil && destinationPort(of: mark).map { $0 == (transport, hostPort) } == true
                    && mark.destination == rule.destination
            }
            let entry = entries.first { $0.covers(transport, port: hostPort) }
            let owner = entry ?? entries.first
            result.append(
                HostPortMapping(
                    protocol: transport, family: family, hostIP: hostIP, hostPort: hostPort, podIP: podIP, podPort: podPort,
                    network: owner?.network, containerID: owner?.containerID, chain: chain.name, store: store,
                    entryIndex: entry?.index,
                    hairpinMasquerade: marks.contains { $0.source.map { !$0.value.address.isLoopback } ?? true },
                    localhostMasquerade: marks.contains { $0.source.map { $0.value.address.isLoopback } ?? true },
                    rule: rule.saveLine(chain: chain.name)))
        }
        return result
    }

    static func destinationPort(of rule: IPTablesRule) -> (TransportProtocol, UInt16)? {
        for match in rule.matches {
            if case .destinationPort(let transport, let port) = match { return (transport, port) }
            if case .multiportDestination(let ports) = match, ports.count == 1,
                let transport = rule.protocolNumber.flatMap({ TransportProtocol(number: $0.value) })
            {
                return (transport, ports[0])
            }
        }
        return nil
    }
}

/// The owner an entry-rule comment names: `dnat name: "<network>" id: "<containerID>"`, written
/// by this plugin and the Go plugin alike (`ChainName.dnatComment`).
enum DNATComment {
    /// The network, and the container ID unless the comment was cut short inside it.
    static func owner(_ comment: String) -> (network: String, containerID: String?)? {
        guard let network = ChainName.network(ofDNATComment: comment) else { return nil }
        let prefix = "dnat name: \"\(network)\" id: \""
        guard comment.hasPrefix(prefix), comment.hasSuffix("\"") else { return (network, nil) }
        return (network, String(comment.dropFirst(prefix.count).dropLast()))
    }
}
