import PortmapCore
import Snapshots

/// Reads Docker's published ports from a nat table: PREROUTING (`-m addrtype --dst-type LOCAL`)
/// and OUTPUT jump to `DOCKER`, which holds one DNAT per published port
/// (`[-d <hostIP>] ! -i <bridge> -p tcp --dport <port> -j DNAT --to-destination <ip>:<port>`).
/// The rules name no container: rows are attributed to Docker and to the pod address only.
enum DockerNatInterpreter {
    static let chain = "DOCKER"

    /// Docker's table, or nil when the nat table has no `DOCKER` chain.
    static func interpret(_ snapshot: NatTableSnapshot) -> HostPortTable? {
        guard let rules = snapshot.rules(in: chain) else { return nil }
        let postrouting = snapshot.rules(in: "POSTROUTING") ?? []
        let jump = LegacyNatInterpreter.hookPosition(snapshot, to: chain)
        let mappings = rules.compactMap { rule -> HostPortMapping? in
            guard case .dnat(let podIP, let podPort) = rule.target,
                let (transport, hostPort) = LegacyNatInterpreter.destinationPort(of: rule)
            else { return nil }
            let hostIP = rule.destination.flatMap { match -> IPAddress? in
                match.isInverted || match.value.prefixLength != snapshot.family.addressBits ? nil : match.value.address
            }
            // Docker masquerades hairpin traffic per published port: `-s <ip> -d <ip> -p <proto>
            // --dport <port> -j MASQUERADE` in POSTROUTING.
            let hairpin = postrouting.contains { masquerade in
                masquerade.target == .masquerade && masquerade.source?.value.address == podIP
                    && masquerade.destination?.value.address == podIP
            }
            return HostPortMapping(
                owner: .docker, protocol: transport, family: snapshot.family, hostIP: hostIP, hostPort: hostPort,
                podIP: podIP, podPort: podPort, network: nil, containerID: nil, chain: chain, store: snapshot.store,
                entryIndex: jump.map { _ in 0 },
                hairpinMasquerade: hairpin, rule: .iptables(rule, chain: chain))
        }
        return HostPortTable(
            owner: .docker, family: snapshot.family, store: snapshot.store, table: "nat", exists: snapshot.exists,
            entryChain: chain, hookPosition: jump, preroutingHook: jump != nil,
            outputHook: LegacyNatInterpreter.jumps(snapshot, "OUTPUT", to: chain),
            masqueradeHook: postrouting.contains { $0.target == .masquerade },
            entries: [], mappings: mappings, orphanChains: [])
    }
}
