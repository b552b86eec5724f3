import PortmapCore
import Snapshots

/// `hostports explain`: follows a packet to `<addr>:<port>/<proto>` through the node the way the
/// kernel would — is the address local, do PREROUTING/OUTPUT lead to CNI-HOSTPORT-DNAT, which entry
/// rule and which DNAT take it (first one wins), does the pod route, and for 127.0.0.1 whether
/// route_localnet and the masquerade mark are there — and stops at the first step that fails. When
/// another forwarder's claim comes first, its DNAT and its container's route are followed instead.
public enum PacketPathExplainer {
    public static func explain(_ target: ExplainTarget, in inventory: HostPortInventory) -> Explanation {
        var path = Path(target: target, inventory: inventory)
        path.walk()
        return Explanation(target: target, steps: path.steps, verdict: path.verdict)
    }

    private struct Path {
        let target: ExplainTarget
        let inventory: HostPortInventory
        var steps: [Explanation.Step] = []
        var verdict = ""

        init(target: ExplainTarget, inventory: HostPortInventory) {
            self.target = target
            self.inventory = inventory
        }

        var claim: String { "\(target.protocol)/\(target.port)" }

        mutating func stop(_ name: Explanation.Step.Name, _ detail: String, advice: String) {
            steps.append(.init(name, .fail, detail, advice: advice))
            verdict = "does not answer: \(detail)"
        }

        mutating func walk() {
            guard address(), owners(), let tables = hook(), let entries = entryRules(tables), let mapping = dnat(entries, tables) else { return }
            guard podRoute(mapping) else { return }
            if target.address.isLoopback {
                guard localhost(mapping, tables.first { $0.store == mapping.store } ?? tables[0]) else { return }
            } else {
                hairpin(mapping)
            }
            listener(mapping)
            verdict = "reaches \(ConflictFinder.endpoint(mapping.podIP, mapping.podPort)) (\(ConflictFinder.owner(mapping)))"
        }

        /// Shown only when another forwarder than the CNI portmap takes the packet: every claim in
        /// the kernel's order. When another owner's comes first (and no CNI claim ties with it),
        /// the CNI rules never see the packet: another owner's hostPort is followed to its
        /// container (`takenBy`), a Service port ends the walk.
        mutating func owners() -> Bool {
            let ranking = ClaimRanking(target, in: inventory)
            guard let first = ranking.claims.first, ranking.claims.contains(where: { $0.cniMapping == nil }) else { return true }
            let listed = ranking.claims.enumerated().map { "\($0.offset + 1). \($0.element.text)" }.joined(separator: "; ")
            let tied = ranking.tiedWithFirst
            let tie =
                tied.isEmpty
                ? ""
                : "; \(tied.map(\.hook).joined(separator: ", ")) hook in at the same priority (\(first.priority)) as \(first.hook): whichever the kernel registered first runs first"
            guard first.cniMapping == nil, !tied.contains(where: { $0.cniMapping != nil }) else {
                steps.append(.init(.owners, .warn, "\(claim) is claimed by \(ranking.claims.count) forwarders, tried in this order: \(listed)\(tie)"))
                return true
            }
            steps.append(
                .init(
                    .owners, .warn, "\(claim) is claimed by \(ranking.claims.count) forwarder(s), tried in this order: \(listed)\(tie)",
                    advice: ranking.claims.contains(where: { $0.cniMapping != nil })
                        ? "the CNI hostPort never receives this traffic: give the pod another hostPort or hostIP, or remove the other claim"
                        : ""))
            verdict = "taken by \(first.text)" + (tied.isEmpty ? "" : " (or by a claim tied with it)")
            if let mapping = first.mapping, tied.isEmpty { takenBy(mapping) }
            return false
        }

        /// Another owner's DNAT takes the packet: its rule, and whether its container's address
        /// routes and is held; the CNI-only steps (entry rules, localhost, hairpin) are not theirs.
        mutating func takenBy(_ mapping: HostPortMapping) {
            steps.append(
                .init(
                    .dnat, .ok,
                    "\(mapping.rule) — DNAT to \(ConflictFinder.endpoint(mapping.podIP, mapping.podPort)) (\(ConflictFinder.owner(mapping)), \(mapping.owner), \(mapping.store) \(mapping.table))"
                ))
            let taken = verdict
            guard podRoute(mapping) else { return }
            verdict = "\(taken): reaches \(ConflictFinder.endpoint(mapping.podIP, mapping.podPort))"
        }

        mutating func address() -> Bool {
            let snapshot = inventory.snapshot
            if target.address.isLoopback {
                steps.append(.init(.address, .ok, "\(target.address) is a loopback address: only the node itself can use it"))
                return true
            }
            guard snapshot.localAddresses.contains(target.address) else {
                let own = snapshot.localAddresses.filter { $0.family == target.address.family && !$0.isLoopback }
                stop(
                    .address, "\(target.address) is not an address of this node, so `-m addrtype --dst-type LOCAL` does not match and no hostPort rule applies",
                    advice: own.isEmpty
                        ? "connect to one of the node's addresses"
                        : "connect to one of the node's addresses: \(own.map(\.description).joined(separator: ", "))")
                return false
            }
            steps.append(.init(.address, .ok, "\(target.address) is an address of this node"))
            return true
        }

        /// The family's tables whose hooks lead to the hostPort rules: the legacy nat table's
        /// PREROUTING/OUTPUT jumps, the nftables table's prerouting/output chains.
        mutating func hook() -> [HostPortTable]? {
            let family = target.address.family
            // The CNI portmap's tables: another owner's claim that wins was followed by `owners`.
            let present = inventory.tables.filter { $0.family == family && $0.exists && $0.owner == .cniPortmap }
            let advice = "check that the pod was ADDed through the portmap plugin, with a hostPort and an \(family) address"
            guard !present.isEmpty else {
                stop(
                    .hook,
                    "the \(family) nat table does not exist (iptables-legacy), nor the nftables \(NFTablesLayout.tableName(family)) or "
                        + "\(NFTablesLayout.tableName(family, UpstreamNFTablesLayout.table)) table: no hostPort is mapped in this family",
                    advice: advice)
                return nil
            }
            var usable: [HostPortTable] = []
            var fine: [String] = []
            var partial: [String] = []
            var broken: [String] = []
            for table in present {
                let nft = table.dispatchChain != nil
                let (prerouting, output) = nft ? ("prerouting", "output") : ("PREROUTING", "OUTPUT")
                let into = table.dispatchChain ?? ChainName.topLevelDNAT
                let label = nft ? "\(table.store) \(table.table)" : "\(table.store) \(table.table), \(family)"
                let needed = target.address.isLoopback ? [(output, table.outputHook)] : [(prerouting, table.preroutingHook), (output, table.outputHook)]
                let missing = needed.filter { !$0.1 }.map(\.0)
                if missing.count == needed.count {
                    broken.append("\(missing.joined(separator: " and ")) of the \(label) table do not jump to \(into)")
                    continue
                }
                usable.append(table)
                if missing.isEmpty {
                    fine.append("\(needed.map(\.0).joined(separator: " and ")) jump to \(into) (\(label))")
                } else {
                    partial.append(
                        "\(missing.joined(separator: ", ")) does not jump to \(into) (\(label)): traffic from \(missing == [output] ? "the node itself" : "other hosts") is not mapped"
                    )
                }
            }
            guard !usable.isEmpty else {
                stop(.hook, broken.joined(separator: "; "), advice: "ADD a pod with hostPorts again to restore the shared rules")
                return nil
            }
            steps.append(
                .init(
                    .hook, partial.isEmpty ? .ok : .warn, (fine + partial).joined(separator: "; "),
                    advice: partial.isEmpty ? "" : "ADD a pod with hostPorts again to restore the shared rules"))
            return usable
        }

        /// The legacy entry rules that take the port, in order; the nftables layouts have none:
        /// our hostports chain looks every port up in its maps, upstream's chains hold a rule per
        /// mapping.
        mutating func entryRules(_ tables: [HostPortTable]) -> [EntryRule]? {
            let entries = tables.flatMap { $0.entries.filter { $0.covers(target.protocol, port: target.port) } }
            let lookupTables = tables.filter { $0.dispatchChain != nil }
            let looked = lookupTables.flatMap(\.mappings).filter { $0.protocol == target.protocol && $0.hostPort == target.port }
            guard !entries.isEmpty || !looked.isEmpty else {
                let otherProtocols = Set(tables.flatMap(\.mappings).filter { $0.hostPort == target.port }.map(\.protocol.rawValue)).sorted()
                stop(
                    .entryRule,
                    "no entry rule in \(ChainName.topLevelDNAT) takes \(claim): no pod maps this port in \(target.address.family)"
                        + (otherProtocols.isEmpty ? "" : " (port \(target.port) is mapped for \(otherProtocols.joined(separator: ", ")))"),
                    advice: otherProtocols.isEmpty
                        ? "check the pod's hostPort, and that its ADD succeeded (`hostports list`)"
                        : "use the protocol the pod maps, or add a \(target.protocol) hostPort to the pod")
                return nil
            }
            var parts: [String] = []
            let conditional = entries.contains(where: \.conditional)
            if let first = entries.first {
                parts.append(
                    "entry rule #\(first.index + 1) of \(ChainName.topLevelDNAT) (\(ConflictFinder.entryOwner(first))) sends \(claim) to \(first.chain)"
                        + (entries.count > 1 ? "; \(entries.count - 1) more entry rule(s) take it too" : "")
                        + (conditional ? "; some carry conditions (conditionsV4/V6) that may not match every packet" : ""))
            }
            for table in lookupTables {
                let chains = Set(table.mappings.filter { $0.protocol == target.protocol && $0.hostPort == target.port }.map(\.chain)).sorted()
                guard !chains.isEmpty, let dispatch = table.dispatchChain else { continue }
                parts.append(
                    table.store == NFTablesInterpreter.store
                        ? "\(table.store) \(table.table): chain \(dispatch) looks \(claim) up in \(chains.joined(separator: " and "))"
                        : "\(table.store) \(table.table): chain \(dispatch) jumps to \(chains.joined(separator: " and ")), which take \(claim)")
            }
            steps.append(
                .init(
                    .entryRule, conditional ? .warn : .ok, parts.joined(separator: "; "),
                    advice: conditional ? "compare the entry rule's conditions with where the packet comes from" : ""))
            return entries
        }

        /// The first DNAT, in entry-rule order, whose address matches: a DNAT that does not match
        /// returns to CNI-HOSTPORT-DNAT, which tries the next entry rule. A port bound to a hostIP
        /// of the other family is in this family's entry rules too, with its DNAT only in the other
        /// family's chain of the same name: that hostIP is named, not a chain said to be broken.
        ///
        /// In nftables the hostIP map is looked up before the every-address map. When both the
        /// legacy table and nftables take the packet, the legacy one is named first; which one
        /// really answers depends on the order their hooks were registered.
        mutating func dnat(_ entries: [EntryRule], _ tables: [HostPortTable]) -> HostPortMapping? {
            var tried: Set<String> = []
            var matching: [HostPortMapping] = []
            var elsewhere: [HostPortMapping] = []
            for entry in entries where tried.insert(entry.chain).inserted {
                for mapping in inventory.mappings
                where mapping.owner == .cniPortmap && mapping.store != NFTablesInterpreter.store && mapping.store != UpstreamNFTablesInterpreter.store
                    && mapping.chain == entry.chain
                    && mapping.protocol == target.protocol && mapping.hostPort == target.port
                {
                    if mapping.accepts(target.address) { matching.append(mapping) } else if mapping.hostIP != nil { elsewhere.append(mapping) }
                }
            }
            // Ours looks the hostIP map up first; upstream's mappings come in the order its rules
            // are tried.
            let looked = tables.filter { $0.dispatchChain != nil }.flatMap { table in
                let taking = table.mappings.filter { $0.protocol == target.protocol && $0.hostPort == target.port }
                return table.store == NFTablesInterpreter.store ? taking.sorted { ($0.hostIP != nil ? 0 : 1) < ($1.hostIP != nil ? 0 : 1) } : taking
            }
            for mapping in looked {
                if mapping.accepts(target.address) { matching.append(mapping) } else if mapping.hostIP != nil { elsewhere.append(mapping) }
            }
            guard let winner = matching.first else {
                let bound = Set(elsewhere.compactMap(\.hostIP?.description)).sorted()
                if bound.isEmpty {
                    stop(
                        .dnat, "the chain(s) the entry rules lead to have no DNAT for \(claim)",
                        advice: "DEL and ADD the pod again (`hostports conflicts` lists the broken chains)")
                } else {
                    stop(
                        .dnat, "\(claim) is mapped only on hostIP \(bound.joined(separator: ", ")), not on \(target.address)",
                        advice: "connect to \(bound.joined(separator: " or ")), or map the port without a hostIP (or with this one)")
                }
                return nil
            }
            let shadowed = matching.dropFirst().map(ConflictFinder.owner)
            steps.append(
                .init(
                    .dnat, shadowed.isEmpty ? .ok : .warn,
                    "\(winner.rule) — DNAT to \(ConflictFinder.endpoint(winner.podIP, winner.podPort)) (\(ConflictFinder.owner(winner)), \(winner.store) \(winner.table))"
                        + (shadowed.isEmpty ? "" : "; also claimed by \(shadowed.joined(separator: ", ")), which never receives it"),
                    advice: shadowed.isEmpty ? "" : "remove the duplicate claim (`hostports conflicts`)"))
            return winner
        }

        mutating func podRoute(_ mapping: HostPortMapping) -> Bool {
            let snapshot = inventory.snapshot
            guard let route = snapshot.routes[mapping.podIP] else {
                steps.append(.init(.podRoute, .warn, "the route to \(mapping.podIP) was not looked up"))
                return true
            }
            if let problem = PodRoute.problem(route, to: mapping.podIP) {
                stop(
                    .podRoute, "the pod address \(mapping.podIP) \(problem)",
                    advice: mapping.owner == .cniPortmap
                        ? "if the pod is gone, DEL it through the runtime (or run CNI GC); otherwise check its network"
                        : "if the container is gone, remove it through \(mapping.owner); otherwise check its network")
                return false
            }
            if let held = snapshot.podNamespaceAddresses, !held.contains(mapping.podIP) {
                stop(
                    .podRoute,
                    "no network namespace on this node holds \(mapping.podIP): the pod is gone and its rules stayed"
                        + ConflictFinder.unentered(snapshot),
                    advice: mapping.owner == .cniPortmap
                        ? "DEL the container through the runtime, or run the network's CNI GC"
                        : "remove the container through \(mapping.owner), or its rules by hand")
                return false
            }
            steps.append(
                .init(
                    .podRoute, .ok,
                    "\(mapping.podIP) routes through \(route.outputInterface ?? "?")"
                        + (snapshot.podNamespaceAddresses == nil ? "" : ", and a network namespace on the node holds it")))
            return true
        }

        /// 127.0.0.1: the DNATed packet keeps its loopback source, which the kernel only routes off
        /// `lo` with route_localnet, and the pod can only answer it if it is masqueraded.
        mutating func localhost(_ mapping: HostPortMapping, _ table: HostPortTable) -> Bool {
            guard target.address.family == .ipv4 else {
                stop(
                    .localhost, "the kernel never routes a packet to or from ::1 off the node (IPv6 has no route_localnet), so [::1]:\(target.port) cannot reach a pod",
                    advice: "connect to one of the node's IPv6 addresses instead")
                return false
            }
            let interface = inventory.snapshot.routes[mapping.podIP]?.outputInterface ?? "?"
            let switches = inventory.snapshot.routeLocalnet
            guard switches[interface] == true || switches["all"] == true else {
                stop(
                    .localhost, "net.ipv4.conf.\(interface).route_localnet is not 1, so the kernel drops the DNATed packet (its source is 127.0.0.1)",
                    advice: "sysctl -w net.ipv4.conf.\(interface).route_localnet=1 (the plugin sets it at ADD when snat is on)")
                return false
            }
            guard mapping.localhostMasquerade, table.masqueradeHook else {
                stop(
                    .localhost,
                    mapping.localhostMasquerade
                        ? "POSTROUTING does not jump to \(ChainName.markMasquerade), so marked packets keep the source 127.0.0.1 and the pod cannot answer"
                        : "\(mapping.chain) does not mark traffic from 127.0.0.1 for masquerade, so the pod would answer 127.0.0.1 (itself)",
                    advice: "ADD the pod with \"snat\": true (the default)")
                return false
            }
            steps.append(.init(.localhost, .ok, "route_localnet is on for \(interface) and traffic from 127.0.0.1 is masqueraded"))
            return true
        }

        /// A pod reaching its own hostPort leaves and re-enters the same bridge port: that needs the
        /// port's hairpin_mode and the masquerade mark for the pod's subnet.
        mutating func hairpin(_ mapping: HostPortMapping) {
            guard let interface = inventory.snapshot.routes[mapping.podIP]?.outputInterface,
                let ports = inventory.snapshot.bridges[interface]
            else { return }
            let off = ports.filter { !$0.hairpin }.map(\.name)
            if !mapping.hairpinMasquerade {
                steps.append(
                    .init(
                        .hairpin, .warn, "\(mapping.chain) does not mark hairpin traffic for masquerade: a pod on \(interface) reaching this hostPort gets no answer",
                        advice: "ADD the pod with \"snat\": true (the default)"))
            } else if !off.isEmpty {
                steps.append(
                    .init(
                        .hairpin, .warn,
                        "hairpin_mode is off on \(interface) port(s) \(off.joined(separator: ", ")): the pod behind such a port cannot reach its own hostPort",
                        advice: "set \"hairpinMode\": true in the bridge plugin's config"))
            } else {
                steps.append(.init(.hairpin, .ok, "pods on \(interface) can use it too (hairpin_mode on all \(ports.count) port(s), masquerade mark present)"))
            }
        }

        mutating func listener(_ mapping: HostPortMapping) {
            let sockets = inventory.listeners(sharing: mapping)
            guard !sockets.isEmpty else { return }
            steps.append(
                .init(
                    .listener, .warn,
                    "\(sockets.map(ConflictFinder.socketText).joined(separator: ", ")) listens on this port but never receives these connections: the DNAT comes first",
                    advice: "move the process or the hostPort to another port"))
        }
    }
}
