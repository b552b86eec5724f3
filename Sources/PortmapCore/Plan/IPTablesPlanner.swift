/// Builds the iptables plan for a container: the Go plugin's layout (portmap_iptables.go), except
/// where upstream is wrong, each difference noted where it is made.
///
/// Pure: the same request always yields the same plan, which the unit tests render as
/// `iptables-save` text and compare with the upstream layout.
public enum IPTablesPlanner {
    /// multiport accepts at most 15 ports per rule.
    static let multiportLimit = 15

    /// The chains for ADD and CHECK in `family`, for a container whose address there is `container`.
    public static func plan(_ config: PortMapConfig, containerID: String, container: IPNetwork) -> IPTablesFamilyPlan {
        let family = container.family
        var chains: [IPTablesChain] = []
        var required: [String] = []
        let markChain = config.externalSetMarkChain ?? ChainName.setMark
        if config.snat {
            if let external = config.externalSetMarkChain {
                required.append(external)
            } else {
                chains.append(setMarkChain(bit: config.markMasqBit))
                chains.append(markMasqueradeChain(bit: config.markMasqBit))
            }
        }
        chains.append(topLevelDNATChain())
        chains.append(dnatChain(config, containerID: containerID, container: container, markChain: markChain))
        let raw = family == .ipv4 && config.localnetGuard ? [localnetGuardChain()] : []
        return IPTablesFamilyPlan(family: family, chains: chains, requiredChains: required, rawChains: raw)
    }

    /// What DEL removes in each family: the container's chain and the pre-0.7 SNAT chain.
    public static func teardown(network: String, containerID: String) -> IPTablesTeardown {
        IPTablesTeardown(items: [
            .init(chain: ChainName.dnat(network: network, containerID: containerID), entryChain: ChainName.topLevelDNAT),
            .init(chain: ChainName.oldSNAT(network: network, containerID: containerID), entryChain: ChainName.oldTopLevelSNAT),
        ])
    }

    /// What GC removes in one family, given the rules of its `CNI-HOSTPORT-DNAT`: the `CNI-DN-`
    /// chain of every container of `network` that is not in `keeping`, as DEL would remove it.
    ///
    /// A chain is `network`'s when every rule of `CNI-HOSTPORT-DNAT` that jumps to it carries the
    /// comment `dnat name: "<network>" id: ...` (`ChainName.network(ofDNATComment:)`), which the Go
    /// plugin writes too; one jump without it (another network's rule, or someone else's) leaves
    /// the chain alone. A chain named after a kept container (`ChainName.dnat(network:containerID:)`)
    /// always stays.
    ///
    /// A `CNI-DN-` chain that no entry rule jumps to is left alone: its name is a hash of network
    /// and container ID, so nothing ties it to `network` unless one of `keeping` hashes to it (and
    /// then it is kept anyway). The pre-0.7 `CNI-SN-` chains are left alone for the same reason.
    public static func garbage(
        network: String, keeping containerIDs: some Sequence<String>,
        entryRules: [IPTablesRule]
    ) -> IPTablesTeardown {
        let kept = Set(containerIDs.map { ChainName.dnat(network: network, containerID: $0) })
        var order: [String] = []
        var owned: [String: Bool] = [:]
        for rule in entryRules {
            guard let chain = rule.target.jumpedChain, chain.hasPrefix("CNI-DN-"), !kept.contains(chain) else { continue }
            let ours = rule.matches.contains { match in
                if case .comment(let text) = match { return ChainName.network(ofDNATComment: text) == network }
                return false
            }
            if owned[chain] == nil { order.append(chain) }
            owned[chain] = (owned[chain] ?? true) && ours
        }
        return IPTablesTeardown(
            items: order.filter { owned[$0] == true }.map {
                .init(chain: $0, entryChain: ChainName.topLevelDNAT)
            })
    }

    /// raw PREROUTING, first: `-j CNI-HOSTPORT-GUARD`, which drops `-d 127.0.0.0/8 ! -i lo`.
    ///
    /// PREROUTING only sees packets that arrive on an interface (a local process's packets to
    /// 127.0.0.1 take OUTPUT), and one to 127.0.0.0/8 from anywhere but `lo` is spoofed: left alone,
    /// `addrtype LOCAL` would send it to CNI-HOSTPORT-DNAT and on to a pod. In the raw table it is
    /// dropped before conntrack or NAT see it. Not in the Go plugin (kubernetes #90259).
    static func localnetGuardChain() -> IPTablesChain {
        let comment = IPTablesMatch.comment("CNI portfwd localnet guard")
        let drop = IPTablesRule(
            destination: Inverted(IPNetwork("127.0.0.0/8")!), inInterface: Inverted("lo", true),
            matches: [comment], target: .verdict("DROP"))
        let entry = IPTablesRule(matches: [comment], target: .jump(ChainName.localnetGuard))
        return IPTablesChain(
            name: ChainName.localnetGuard, ownership: .shared, rules: [drop],
            entryChains: ["PREROUTING"], entryRules: [entry], prependEntry: true)
    }

    /// PREROUTING/OUTPUT `-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT`.
    static func topLevelDNATChain() -> IPTablesChain {
        let entry = IPTablesRule(matches: [.destinationTypeLocal], target: .jump(ChainName.topLevelDNAT))
        return IPTablesChain(
            name: ChainName.topLevelDNAT, ownership: .shared,
            entryChains: ["PREROUTING", "OUTPUT"], entryRules: [entry])
    }

    /// CNI-HOSTPORT-SETMARK: sets the masquerade bit and returns.
    static func setMarkChain(bit: Int) -> IPTablesChain {
        let mark = UInt32(1) << UInt32(bit)
        let rule = IPTablesRule(matches: [.comment("CNI portfwd masquerade mark")], target: .setMark(value: mark, mask: mark))
        return IPTablesChain(name: ChainName.setMark, ownership: .shared, rules: [rule])
    }

    /// CNI-HOSTPORT-MASQ, entered first thing in POSTROUTING: masquerades marked packets.
    static func markMasqueradeChain(bit: Int) -> IPTablesChain {
        let mark = UInt32(1) << UInt32(bit)
        let rule = IPTablesRule(matches: [.mark(value: mark, mask: mark)], target: .masquerade)
        let entry = IPTablesRule(matches: [.comment("CNI portfwd requiring masquerade")], target: .jump(ChainName.markMasquerade))
        return IPTablesChain(
            name: ChainName.markMasquerade, ownership: .shared, rules: [rule],
            entryChains: ["POSTROUTING"], entryRules: [entry], prependEntry: true)
    }

    /// The container's CNI-DN chain and its entry rules in CNI-HOSTPORT-DNAT.
    static func dnatChain(_ config: PortMapConfig, containerID: String, container: IPNetwork, markChain: String) -> IPTablesChain {
        let name = ChainName.dnat(network: config.name, containerID: containerID)
        let family = container.family
        let conditions = config.conditions(for: family)
        let comment = ChainName.dnatComment(network: config.name, containerID: containerID)

        // Entry rules: one per protocol spelling, in byte order ("TCP" < "tcp" < "udp"), and per
        // 15 ports, as upstream groups them. Like upstream, the port lists hold every mapping's
        // hostPort, including those whose hostIP is of the other family (their per-port rules
        // below are skipped, so they only cost a lookup). A `-p` condition leaves out the
        // protocols it excludes (see `RuleConditions`).
        var entries: [IPTablesRule] = []
        for (spelling, transport) in protocolSpellings(config.portMappings) where conditions.admits(transport) {
            let ports = config.portMappings.filter { $0.protocolSpelling == spelling }.map(\.hostPort)
            for start in stride(from: 0, to: ports.count, by: multiportLimit) {
                let chunk = Array(ports[start..<min(start + multiportLimit, ports.count)])
                entries.append(
                    IPTablesRule(
                        source: conditions.source, destination: conditions.destination,
                        inInterface: conditions.inInterface, outInterface: conditions.outInterface,
                        protocolNumber: Inverted(UInt16(transport.number)),
                        matches: [.comment(comment), .multiportDestination(chunk)],
                        target: .jump(name)))
            }
        }

        // Per mapping: mark hairpin traffic, mark localhost traffic (IPv4), then DNAT; the marks
        // must come first because DNAT ends the chain.
        var rules: [IPTablesRule] = []
        for mapping in config.portMappings where mapping.applies(to: family) {
            // The DNAT is bound to the hostIP whenever one is given (0.0.0.0 / :: only pick the
            // family): the rule can never answer on every address for a hostIP-bound mapping.
            let destination = mapping.boundAddress.map { Inverted(IPNetwork(host: $0)) }
            func rule(source: IPNetwork?, target: IPTablesTarget) -> IPTablesRule {
                IPTablesRule(
                    source: source.map { Inverted($0) }, destination: destination,
                    protocolNumber: Inverted(UInt16(mapping.protocol.number)),
                    matches: [.destinationPort(mapping.protocol, mapping.hostPort)], target: target)
            }
            if config.snat {
                // masqAll marks every source; upstream writes `-s 0.0.0.0/0`, which the kernel
                // stores as no source match at all, so that is what the plan holds.
                rules.append(rule(source: config.masqAll ? nil : container.network, target: .jump(markChain)))
                if family == .ipv4 && !config.masqAll {
                    rules.append(rule(source: IPNetwork(host: .v4(0x7F00_0001)), target: .jump(markChain)))
                }
            }
            rules.append(rule(source: nil, target: .dnat(container.address, port: mapping.containerPort)))
        }
        // Go writes each rule with InsertUnique, so a rule identical to an earlier one is not
        // written again: two spellings of a protocol with the same ports make one entry rule.
        return IPTablesChain(
            name: name, ownership: .container, rules: uniqued(rules),
            entryChains: [ChainName.topLevelDNAT], entryRules: uniqued(entries))
    }

    /// `rules` without repeats, each where it first came.
    static func uniqued(_ rules: [IPTablesRule]) -> [IPTablesRule] {
        var seen: Set<IPTablesRule> = []
        return rules.filter { seen.insert($0).inserted }
    }

    /// The spellings of the mappings' protocols, each once, in the byte order of Go's `sort.Strings`.
    static func protocolSpellings(_ mappings: [PortMapping]) -> [(String, TransportProtocol)] {
        var seen: [String: TransportProtocol] = [:]
        for mapping in mappings { seen[mapping.protocolSpelling] = mapping.protocol }
        return seen.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { ($0.key, $0.value) }
    }
}
