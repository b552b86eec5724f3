import PortmapCore
import Snapshots

/// Reads a nat table (whichever iptables store keeps it) back into hostPort mappings, one table
/// per owner: the Go plugin's layout (which this plugin writes too) and the copies of it other
/// forwarders use (`NatForwarderLayout`): entry rules in the entry chain name the owner and the
/// ports, the per-container chain they jump to holds the mark rules and one DNAT per mapping.
/// Docker's DNATs are read by `DockerNatInterpreter`.
public enum LegacyNatInterpreter {
    static let containerChainPrefix = NatForwarderLayout.cniPortmap.containerChainPrefix

    /// The CNI portmap's table (always, so a missing table is reported), then each other
    /// owner's whose chains are present.
    public static func interpret(_ snapshot: NatTableSnapshot) -> [HostPortTable] {
        var tables = [interpret(snapshot, layout: .cniPortmap)]
        for layout in NatForwarderLayout.all.dropFirst()
        where snapshot.chains.contains(where: { $0.name == layout.entryChain || $0.name.hasPrefix(layout.containerChainPrefix) }) {
            tables.append(interpret(snapshot, layout: layout))
        }
        if let docker = DockerNatInterpreter.interpret(snapshot) { tables.append(docker) }
        return tables
    }

    static func interpret(_ snapshot: NatTableSnapshot, layout: NatForwarderLayout) -> HostPortTable {
        let entries = (snapshot.rules(in: layout.entryChain) ?? []).enumerated().compactMap { index, rule in
            entryRule(rule, index: index, layout: layout)
        }
        var mappings: [HostPortMapping] = []
        var orphans: [String] = []
        // By chain once: each of thousands of chains looking through every entry rule was
        // quadratic (a tenth of `list` at 1000 pods).
        let entriesByChain = Dictionary(grouping: entries, by: \.chain)
        // CRI-O's masquerade: one hairpin chain per container chain, looked up by name; the
        // localhost rule is the table's.
        let masqueradeChains = layout.masqueradeChainPrefix.map { prefix in
            Dictionary(snapshot.chains.filter { $0.name.hasPrefix(prefix) }.map { ($0.name, $0.rules) }, uniquingKeysWith: { first, _ in first })
        }
        let localhost = (snapshot.rules(in: layout.masqueradeChain) ?? [])
            .contains { $0.target == .masquerade && $0.source?.value.address.isLoopback == true }
        for chain in snapshot.chains where chain.name.hasPrefix(layout.containerChainPrefix) {
            let owners = entriesByChain[chain.name] ?? []
            if owners.isEmpty { orphans.append(chain.name) }
            var found = self.mappings(in: chain, entries: owners, family: snapshot.family, store: snapshot.store, owner: layout.owner)
            if let prefix = layout.masqueradeChainPrefix, let masqueradeChains {
                let hairpin = (masqueradeChains[prefix + chain.name.dropFirst(layout.containerChainPrefix.count)] ?? [])
                    .contains { $0.target == .masquerade }
                for index in found.indices {
                    found[index].hairpinMasquerade = hairpin
                    found[index].localhostMasquerade = localhost
                }
            }
            mappings += found
        }
        return HostPortTable(
            owner: layout.owner, family: snapshot.family, store: snapshot.store, table: "nat", exists: snapshot.exists,
            entryChain: layout.entryChain, hookPosition: hookPosition(snapshot, to: layout.entryChain),
            preroutingHook: jumps(snapshot, "PREROUTING", to: layout.entryChain),
            outputHook: jumps(snapshot, "OUTPUT", to: layout.entryChain),
            masqueradeHook: jumps(snapshot, "POSTROUTING", to: layout.masqueradeChain),
            entries: entries, mappings: mappings, orphanChains: orphans)
    }

    static func jumps(_ snapshot: NatTableSnapshot, _ chain: String, to target: String) -> Bool {
        snapshot.rules(in: chain)?.contains { $0.target.jumpedChain == target } ?? false
    }

    /// The index of PREROUTING's first jump to `target`.
    static func hookPosition(_ snapshot: NatTableSnapshot, to target: String) -> Int? {
        snapshot.rules(in: "PREROUTING")?.firstIndex { $0.target.jumpedChain == target }
    }

    static func entryRule(_ rule: IPTablesRule, index: Int, layout: NatForwarderLayout = .cniPortmap) -> EntryRule? {
        guard let chain = rule.target.jumpedChain, chain.hasPrefix(layout.containerChainPrefix) else { return nil }
        var ports: [UInt16] = []
        var owner: NatForwarderLayout.Claimant?
        var conditional =
            rule.source != nil || rule.destination != nil || rule.inInterface != nil
            || rule.outInterface != nil || rule.protocolNumber?.isInverted == true
        for match in rule.matches {
            switch match {
            case .multiportDestination(let list): ports = list
            case .destinationPort(_, let port): ports = [port]
            case .comment(let text): owner = owner ?? layout.claimant(text)
            default: conditional = true
            }
        }
        let transport = rule.protocolNumber.flatMap { $0.isInverted ? nil : TransportProtocol(number: $0.value) }
        return EntryRule(
            index: index, protocol: transport, ports: ports, chain: chain, network: owner?.network,
            containerID: owner?.containerID, workload: owner?.workload, conditional: conditional)
    }

    /// One mapping per DNAT rule of a container chain; the mark rules before it for the same port
    /// tell whether hairpin and localhost traffic is masqueraded. A DNAT without a port match
    /// (CRI-O's: one chain per port) takes its port from the entry rule.
    static func mappings(
        in chain: NatTableSnapshot.Chain, entries: [EntryRule], family: IPFamily, store: RuleStore, owner layoutOwner: PortOwner = .cniPortmap
    ) -> [HostPortMapping] {
        var result: [HostPortMapping] = []
        let entryPort: (TransportProtocol, UInt16)? = entries.first.flatMap { entry in
            entry.ports.count == 1 ? entry.protocol.map { ($0, entry.ports[0]) } : nil
        }
        for (index, rule) in chain.rules.enumerated() {
            guard case .dnat(let podIP, let podPort) = rule.target,
                let (transport, hostPort) = destinationPort(of: rule) ?? entryPort
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
                    owner: layoutOwner, protocol: transport, family: family, hostIP: hostIP, hostPort: hostPort, podIP: podIP,
                    podPort: podPort, network: owner?.network, containerID: owner?.containerID, workload: owner?.workload,
                    chain: chain.name, store: store,
                    entryIndex: entry?.index,
                    hairpinMasquerade: marks.contains { $0.source.map { !$0.value.address.isLoopback } ?? true },
                    localhostMasquerade: marks.contains { $0.source.map { $0.value.address.isLoopback } ?? true },
                    rule: .iptables(rule, chain: chain.name)))
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
        let prefix = "dnat name: \"\(network)\" id: \"".utf8
        guard comment.utf8.starts(with: prefix), comment.utf8.last == UInt8(ascii: "\"") else { return (network, nil) }
        return (network, String(decoding: comment.utf8.dropFirst(prefix.count).dropLast(), as: UTF8.self))
    }
}
