import PortmapCore
import Snapshots

/// Reads the nftables backend's table (`NFTablesLayout`) back into hostPort mappings: each DNAT map
/// element is one mapping, owned by the container its comment names; `masq_pairs` says whether
/// its hairpin and localhost traffic is masqueraded.
public enum NFTablesInterpreter {
    public static let store = RuleStore.nftables

    public static func interpret(_ snapshot: NFTablesSnapshot) -> HostPortTable {
        let family = snapshot.family
        let has = Set(snapshot.chains)
        let dispatching = has.contains(NFTablesLayout.dispatchChain)
        let pairs = snapshot.elements.compactMap { element -> (IPNetwork, IPAddress)? in
            if case .sourceToPod(let source, let pod) = element.key, element.set == .masquerade { return (source, pod) }
            return nil
        }
        let table = NFTablesLayout.tableName(family)
        let mappings = snapshot.elements.compactMap { element -> HostPortMapping? in
            guard let destination = element.destination else { return nil }
            let (transport, port, hostIP): (TransportProtocol, UInt16, IPAddress?)
            switch element.key {
            case .port(let t, let p): (transport, port, hostIP) = (t, p, nil)
            case .hostPort(let address, let t, let p): (transport, port, hostIP) = (t, p, address)
            case .sourceToPod: return nil
            }
            let masqueraded = pairs.filter { $0.1 == destination.address }.map(\.0)
            let owner = NFTablesPlanner.parseOwner(element.owner)
            return HostPortMapping(
                protocol: transport, family: family, hostIP: hostIP, hostPort: port, podIP: destination.address,
                podPort: destination.port, network: owner?.network, containerID: owner?.containerID,
                chain: element.set.rawValue, store: store, table: table, entryIndex: dispatching ? 0 : nil,
                hairpinMasquerade: masqueraded.contains { !$0.address.isLoopback },
                localhostMasquerade: masqueraded.contains { $0.prefixLength == 0 || $0.address.isLoopback },
                rule: .text("element \(element.set.rawValue) { \(NFTablesPlanner.text(of: element)) }"))
        }
        return HostPortTable(
            family: family, store: store, table: table, exists: snapshot.exists,
            preroutingHook: has.contains("prerouting") && dispatching,
            outputHook: has.contains("output") && dispatching,
            masqueradeHook: has.contains("postrouting"),
            entries: [], mappings: mappings, orphanChains: [])
    }
}
