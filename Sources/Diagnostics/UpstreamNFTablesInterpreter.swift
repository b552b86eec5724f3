import PortmapCore
import Snapshots

/// Reads upstream's nftables table (`UpstreamNFTablesLayout`) back into hostPort mappings: each
/// DNAT rule of `hostip_hostports` and `hostports` is one mapping, owned by the container its
/// comment names (a bare ID, no network); the masquerade rules of `masquerading` say whether its
/// hairpin and localhost traffic is masqueraded. Mappings come in the order a packet tries them
/// (`hostports_all` jumps to `hostip_hostports` first).
public enum UpstreamNFTablesInterpreter {
    public static let store = RuleStore.upstreamNFTables
    public static let dispatchChain = "hostports_all"

    public static func interpret(_ snapshot: UpstreamNFTablesSnapshot) -> HostPortTable {
        let family = snapshot.family
        let has = Set(snapshot.chains)
        let dispatching = has.contains(dispatchChain)
        let table = NFTablesLayout.tableName(family, UpstreamNFTablesLayout.table)
        var masquerades: [(source: IPAddress?, pod: IPAddress?)] = []
        for rule in snapshot.rules {
            if case .masquerade(let source, let pod) = rule.action { masquerades.append((source, pod)) }
        }
        let order = ["hostip_hostports", "hostports"]
        let rules = snapshot.rules.filter { order.contains($0.chain) }.enumerated()
            .sorted { (order.firstIndex(of: $0.element.chain)!, $0.offset) < (order.firstIndex(of: $1.element.chain)!, $1.offset) }
            .map(\.element)
        let mappings = rules.compactMap { rule -> HostPortMapping? in
            guard case .dnat(let transport, let hostIP, let hostPort, let pod, let podPort) = rule.action else { return nil }
            let masqueraded = masquerades.filter { $0.pod == pod }.map(\.source)
            return HostPortMapping(
                protocol: transport, family: family, hostIP: hostIP, hostPort: hostPort, podIP: pod, podPort: podPort,
                network: nil, containerID: rule.containerID, chain: rule.chain, store: store, table: table,
                entryIndex: dispatching && has.contains(rule.chain) ? 0 : nil,
                hairpinMasquerade: masqueraded.contains { $0 != nil && !$0!.isLoopback },
                localhostMasquerade: masqueraded.contains { $0 == nil || $0!.isLoopback },
                rule: .text("\(rule.chain): \(rule.text)"))
        }
        return HostPortTable(
            family: family, store: store, table: table, exists: snapshot.exists,
            preroutingHook: has.contains("prerouting") && dispatching,
            outputHook: has.contains("output") && dispatching,
            masqueradeHook: has.contains("masquerading"),
            entries: [], mappings: mappings, orphanChains: [])
    }
}
