import PortmapCore
import Snapshots

/// `hostports conflicts`: every finding over an inventory, in a stable order (by kind, then by
/// the first mapping or chain involved).
public enum ConflictFinder {
    public static func findings(in inventory: HostPortInventory) -> [Finding] {
        var findings = claims(inventory) + listeners(inventory)
        let bound = Dictionary(grouping: inventory.mappings.filter { $0.hostIP != nil }, by: \.family)
        for table in inventory.tables {
            findings += structure(table, boundElsewhere: bound.filter { $0.key != table.family }.flatMap(\.value))
        }
        findings += pods(inventory)
        findings += splitStores(inventory.snapshot)
        findings += servicePortOverlaps(inventory)
        return findings
    }

    /// Per family: the Go plugin's chains in both iptables stores (a node whose binary or
    /// `iptables` changed with pods running), or in one store while kube-proxy's are in the other.
    /// Both stores' nat chains hook in at the same priority, so which one's DNAT a packet gets
    /// (a hostPort's or a Service's) depends on the order they were registered.
    static func splitStores(_ snapshot: NodeSnapshot) -> [Finding] {
        let stores: [RuleStore] = [.iptablesLegacy, .iptablesNFT]
        var findings: [Finding] = []
        for family in IPFamily.allCases {
            let chains = stores.map { store in
                snapshot.tables.compactMap { table -> [String]? in
                    guard case .nat(let nat) = table, nat.family == family, nat.store == store, nat.exists else { return nil }
                    return nat.chains.map(\.name)
                }.joined()
            }
            let cni = chains.map { names in names.filter { $0.hasPrefix("CNI-HOSTPORT-") || $0.hasPrefix(LegacyNatInterpreter.containerChainPrefix) } }
            let containers = cni.map { names in names.filter { $0.hasPrefix(LegacyNatInterpreter.containerChainPrefix) }.count }
            let kube = chains.map { names in names.contains(where: isKubeProxyChain) }
            if !cni[0].isEmpty && !cni[1].isEmpty {
                findings.append(
                    Finding(
                        kind: .splitStores, family: family,
                        message: "CNI hostPort chains are in both iptables stores: \(containers[0]) \(LegacyNatInterpreter.containerChainPrefix) chains in \(stores[0]), "
                            + "\(containers[1]) in \(stores[1]); both hook in at the same priority, so a port claimed in both answers from one of them only",
                        advice: "recreate the pods of one store (drain the node, or DEL and ADD them) so one store holds every hostPort; "
                            + "the portmap config's iptablesStore pins the store", chains: cni[0] + cni[1]))
            }
            for (ours, theirs) in [(0, 1), (1, 0)] where !cni[ours].isEmpty && cni[theirs].isEmpty && kube[theirs] && !kube[ours] {
                findings.append(
                    Finding(
                        kind: .splitStores, family: family,
                        message: "the CNI hostPort chains are in \(stores[ours]), kube-proxy's chains in \(stores[theirs]): a hostPort and a "
                            + "Service or NodePort on the same address and port answer from whichever nat table the kernel runs first",
                        advice: "set the portmap config's iptablesStore to \(stores[theirs] == .iptablesNFT ? "nft" : "legacy") and recreate the pods "
                            + "with hostPorts, so hostPorts and Services share a store", chains: cni[ours]))
            }
        }
        return findings
    }

    /// kube-proxy's chains, not CRI-O's hostport chains, which kept kubelet's `KUBE-` names.
    static func isKubeProxyChain(_ name: String) -> Bool {
        name.hasPrefix("KUBE-") && name != NatForwarderLayout.crio.entryChain && !name.hasPrefix(NatForwarderLayout.crio.containerChainPrefix)
    }

    /// Two containers claiming the same port on the same address, or one on every address and one
    /// on a specific one. The first entry rule in CNI-HOSTPORT-DNAT wins; the other never answers.
    /// Across owners in one nat table, the owner PREROUTING jumps to first wins.
    static func claims(_ inventory: HostPortInventory) -> [Finding] {
        var findings: [Finding] = []
        let mappings = inventory.mappings
        let order = ClaimOrder(inventory.tables)
        // Grouped by what a claim is about, so a node with thousands of mappings compares only
        // the few that share a port.
        struct Claim: Hashable { let family: IPFamily, transport: TransportProtocol, port: UInt16 }
        let groups = Dictionary(grouping: mappings.indices) {
            Claim(family: mappings[$0].family, transport: mappings[$0].protocol, port: mappings[$0].hostPort)
        }
        for indices in groups.values.sorted(by: { $0[0] < $1[0] }) where indices.count > 1 {
            for (position, i) in indices.enumerated() {
                for j in indices.dropFirst(position + 1) {
                    if let finding = claimFinding(i, j, in: mappings, order: order) { findings.append(finding) }
                }
            }
        }
        return findings
    }

    /// Mappings `i` and `j` claim the same protocol and port in one family: a conflict unless they
    /// are one container's, or bound to different addresses.
    static func claimFinding(_ i: Int, _ j: Int, in mappings: [HostPortMapping], order: ClaimOrder = ClaimOrder([])) -> Finding? {
        let first = mappings[i]
        let second = mappings[j]
        guard !sameContainer(first, second) else { return nil }
        let (winner, loser) = order.winner(i, j, in: mappings)
        let claim = "\(first.protocol)/\(first.hostPort)"
        // The legacy nat table and nftables hook in at the same priority: which one's DNAT a new
        // connection gets depends on the order the kernel registered them.
        let answers =
            first.store != second.store
            ? "one in \(first.store), one in \(second.store): which answers depends on the order their hooks were registered"
            : first.owner != second.owner
                ? "only \(owner(mappings[winner])) answers (PREROUTING jumps to \(mappings[winner].owner)'s chain first)"
                : "only \(owner(mappings[winner])) answers"
        if first.hostIP == second.hostIP {
            return Finding(
                kind: .duplicateClaim, family: first.family,
                message: "\(claim) on \(addressText(first.hostIP)) is claimed by \(owner(mappings[winner])) and \(owner(mappings[loser])); \(answers)",
                advice: "remove one of the pods, or give each a different hostPort or hostIP",
                mappings: [winner, loser])
        }
        guard first.hostIP == nil || second.hostIP == nil else { return nil }
        let (wildcard, specific) = first.hostIP == nil ? (first, second) : (second, first)
        return Finding(
            kind: .wildcardOverlap, family: first.family,
            message: "\(claim) is claimed on every address by \(owner(wildcard)) and on \(addressText(specific.hostIP)) by \(owner(specific)); on that address "
                + answers,
            advice: "bind both pods to distinct hostIPs, or use different hostPorts",
            mappings: [winner, loser])
    }

    /// A socket a process holds on a hostPort's address: the DNAT runs first, so it never sees
    /// that traffic.
    static func listeners(_ inventory: HostPortInventory) -> [Finding] {
        inventory.mappings.enumerated().flatMap { index, mapping in
            // The forwarder's own socket on the port (docker-proxy's, CRI-O's reservation) is by design.
            inventory.listeners(sharing: mapping).filter { socket in
                socket.owners.isEmpty || !socket.owners.allSatisfy { $0.command == mapping.owner.portHolder }
            }.map { socket in
                Finding(
                    kind: .shadowedListener, family: mapping.family,
                    message:
                        "\(socketText(socket)) listens on \(mapping.protocol)/\(mapping.hostPort), which \(owner(mapping)) maps on \(addressText(mapping.hostIP)) to \(endpoint(mapping.podIP, mapping.podPort)): connections to it reach the pod, not the process",
                    advice: "move the process or the hostPort to another port, or bind them to different addresses",
                    mappings: [index])
            }
        }
    }

    /// The layout itself: hooks, entry rules that lead nowhere, chains nothing leads to.
    ///
    /// `boundElsewhere` are the other family's mappings bound to a hostIP. Both plugins put every
    /// port of a container in its entry rules of each family it has an address in, but write the
    /// DNAT of a port bound to a hostIP only in that hostIP's family: such a port has no DNAT here
    /// by design (its chain may even be empty), which is not a broken entry rule.
    static func structure(_ table: HostPortTable, boundElsewhere: [HostPortMapping]) -> [Finding] {
        var findings: [Finding] = []
        let label =
            table.owner == .cniPortmap
            ? "\(table.store) nat (\(table.family))"
            : "\(table.owner) in \(table.store == .nftables ? table.table : "\(table.store) nat") (\(table.family))"
        let cni = table.owner == .cniPortmap
        if !table.entries.isEmpty || !table.mappings.isEmpty {
            let dispatch = table.dispatchChain
            let missing = [
                (table.preroutingHook, dispatch != nil ? "prerouting" : "PREROUTING", "other hosts"),
                (table.outputHook, dispatch != nil ? "output" : "OUTPUT", "the node itself"),
            ].filter { !$0.0 }
            for (_, chain, whom) in missing {
                let what =
                    dispatch.map { "chain \(chain) (fib daddr type local jump \($0)) is missing" }
                    ?? (table.store == .nftables
                        ? "\(table.table) has no nat chain on the \(chain.lowercased()) hook"
                        : "\(chain) has no -m addrtype --dst-type LOCAL -j \(table.entryChain)")
                findings.append(
                    Finding(
                        kind: .hookMissing, family: table.family,
                        message: "\(label): \(what): no hostPort answers to \(whom)",
                        advice: cni
                            ? "ADD any pod with hostPorts again to restore the shared rules"
                            : "restart \(table.owner) (or recreate one of its containers with a published port) to restore its jumps",
                        chains: [chain]))
            }
        }
        // By chain once: thousands of entry rules each looking through every mapping made
        // `conflicts` quadratic (0.8 s at 1000 pods).
        var byChain: [String: [(protocol: TransportProtocol, hostPort: UInt16)]] = [:]
        for mapping in [table.mappings, boundElsewhere].joined() { byChain[mapping.chain, default: []].append((mapping.protocol, mapping.hostPort)) }
        for entry in table.entries {
            let dnats = byChain[entry.chain] ?? []
            let uncovered = entry.ports.filter { port in
                !dnats.contains { $0.hostPort == port && (entry.protocol == nil || $0.protocol == entry.protocol) }
            }
            guard dnats.isEmpty || !uncovered.isEmpty else { continue }
            let what = dnats.isEmpty ? "has no DNAT rule" : "has no DNAT rule for port \(uncovered.map(String.init).joined(separator: ","))"
            findings.append(
                Finding(
                    kind: .entryWithoutDNAT, family: table.family,
                    message: "\(label): entry rule #\(entry.index + 1) of \(table.entryChain) (\(entryOwner(entry))) jumps to \(entry.chain), which \(what)",
                    advice: cni
                        ? "DEL and ADD the container again, or remove the entry rule and the chain"
                        : "recreate the container through \(table.owner), or remove the entry rule and the chain",
                    chains: [entry.chain]))
        }
        let tool = table.store == .iptablesNFT ? "iptables-nft" : "iptables-legacy"
        for chain in table.orphanChains {
            findings.append(
                Finding(
                    kind: .orphanChain, family: table.family,
                    message: "\(label): \(chain) has no entry rule in \(table.entryChain): the rules of a container that was never "
                        + (cni ? "DELeted" : "removed by \(table.owner)"),
                    advice: "remove it: \(tool) -t nat -F \(chain); \(tool) -t nat -X \(chain) (ip6\(tool.dropFirst(2)) for IPv6)"
                        + (cni ? ", or run the network's CNI GC" : ""),
                    chains: [chain]))
        }
        return findings
    }

    /// Pods that do not route from the node, or that no network namespace holds any more.
    static func pods(_ inventory: HostPortInventory) -> [Finding] {
        var findings: [Finding] = []
        let byPod = Dictionary(grouping: inventory.mappings.indices) { inventory.mappings[$0].podIP }
        var seen: Set<IPAddress> = []
        for mapping in inventory.mappings where seen.insert(mapping.podIP).inserted {
            let involved = byPod[mapping.podIP] ?? []
            if let route = inventory.snapshot.routes[mapping.podIP], let problem = PodRoute.problem(route, to: mapping.podIP) {
                findings.append(
                    Finding(
                        kind: .podUnroutable, family: mapping.family,
                        message: "\(owner(mapping)) DNATs to \(mapping.podIP), which \(problem)",
                        advice: "if the pod is gone, DEL it (or run CNI GC); otherwise check the pod's network",
                        mappings: involved))
            } else if let held = inventory.snapshot.podNamespaceAddresses, !held.contains(mapping.podIP),
                !inventory.snapshot.localAddresses.contains(mapping.podIP)
            {
                findings.append(
                    Finding(
                        kind: .podGone, family: mapping.family,
                        message:
                            "\(owner(mapping)) DNATs to \(mapping.podIP), which no network namespace on this node holds: the pod is gone but its rules stayed (no CNI DEL)"
                            + unentered(inventory.snapshot),
                        advice: mapping.owner == .cniPortmap
                            ? "DEL the container through the runtime, or run the network's CNI GC"
                            : "remove the container through \(mapping.owner), or its rules by hand",
                        mappings: involved))
            }
        }
        return findings
    }

    /// The caveat of a pod-gone conclusion when some namespaces could not be looked into.
    static func unentered(_ snapshot: NodeSnapshot) -> String {
        snapshot.unenteredNamespaces == 0 ? "" : " (\(snapshot.unenteredNamespaces) network namespace(s) could not be entered)"
    }

    /// One container's mappings never conflict with each other: the same owner, or (when no entry
    /// rule names one) the same chain.
    static func sameContainer(_ a: HostPortMapping, _ b: HostPortMapping) -> Bool {
        guard a.owner == b.owner else { return false }
        if let workload = a.workload, let other = b.workload { return workload == other }
        // Docker names no container: one container, one address.
        if a.owner == .docker { return a.podIP == b.podIP }
        if let network = a.network, let id = a.containerID, b.network != nil, b.containerID != nil {
            return network == b.network && id == b.containerID
        }
        // Upstream's nftables rules name the container but no network, and share their chains.
        if [a.store, b.store].contains(UpstreamNFTablesInterpreter.store), a.containerID != nil, b.containerID != nil {
            return a.network == b.network && a.containerID == b.containerID
        }
        return a.store == b.store && a.chain == b.chain
    }

    static func owner(_ mapping: HostPortMapping) -> String {
        switch mapping.owner {
        case .cniPortmap, .kubeProxy: break
        case .crio: return "cri-o pod \(mapping.workload ?? "(no comment) in \(mapping.chain)")"
        case .netavark where mapping.network == nil && mapping.containerID == nil: return "netavark (\(mapping.table) \(mapping.chain))"
        case .netavark: return "netavark \(mapping.network ?? "?")/\(mapping.containerID.map(ShortID.of) ?? "?")"
        case .docker: return "docker container \(endpoint(mapping.podIP, mapping.podPort))"
        case .unattributed: return "table \(mapping.table) (\(mapping.chain))"
        }
        guard let network = mapping.network else {
            if mapping.store == UpstreamNFTablesInterpreter.store, let id = mapping.containerID { return "container \(ShortID.of(id)) (\(mapping.store))" }
            return "chain \(mapping.chain)"
        }
        return "\(network)/\(mapping.containerID.map(ShortID.of) ?? "?")"
    }

    static func entryOwner(_ entry: EntryRule) -> String {
        if let workload = entry.workload { return workload }
        guard let network = entry.network else { return "no owner comment" }
        return "\(network)/\(entry.containerID.map(ShortID.of) ?? "?")"
    }

    static func addressText(_ address: IPAddress?) -> String { address?.description ?? "every address" }

    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    static func socketText(_ socket: ListeningSocket) -> String {
        let who = socket.owners.map { "\($0.command)[\($0.pid)]" }.joined(separator: ",")
        return "\(who.isEmpty ? "a socket" : who) (\(endpoint(socket.address, socket.port)))"
    }
}

/// Container IDs are 64 hex characters from most runtimes; tables show the first 12, as they do.
enum ShortID {
    static func of(_ id: String) -> String { id.count > 12 ? String(id.prefix(12)) : id }
}

/// Whether a route to a pod address leads to a pod on this node.
enum PodRoute {
    /// What is wrong with `route`, as the end of a sentence; nil when it leads to a local pod.
    static func problem(_ route: RouteFact, to address: IPAddress) -> String? {
        switch route.kind {
        case .unreachable:
            return "has no route from the node"
        case .local:
            return "is an address of the node itself"
        case .unicast:
            if let gateway = route.gateway {
                return "routes through the gateway \(gateway) (\(route.outputInterface ?? "?")), not to a pod on this node"
            }
            return nil
        }
    }
}
