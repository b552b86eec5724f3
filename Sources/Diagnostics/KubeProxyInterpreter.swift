import PortmapCore
import Snapshots

/// Reads kube-proxy's iptables mode back into the node ports it takes: `KUBE-NODEPORTS` rules
/// (`-p <proto> --dport <port> -m comment "<svc>"`), reached from the last rule of
/// `KUBE-SERVICES` (`-m addrtype --dst-type LOCAL`, or `-d <address>` per
/// `--nodeport-addresses`), and `KUBE-SERVICES` rules for external and load-balancer IPs
/// (`-d <ip> ... -m comment "<svc> external IP"` / `"<svc> loadbalancer IP"`).
enum KubeProxyInterpreter {
    static let services = "KUBE-SERVICES"
    static let nodePorts = "KUBE-NODEPORTS"

    static func servicePorts(_ snapshot: NatTableSnapshot) -> [ServicePort] {
        guard let serviceRules = snapshot.rules(in: services) else { return [] }
        let jump = LegacyNatInterpreter.hookPosition(snapshot, to: services)
        // Where NodePorts answer: one rule per address, or addrtype LOCAL for all of them.
        let nodePortEntries = serviceRules.filter { $0.target.jumpedChain == nodePorts }
        let addresses: [IPAddress?] = nodePortEntries.map { hostAddress($0, snapshot.family) }
        var claims: [ServicePort] = []
        var seen: Set<ServicePort> = []
        func add(_ claim: ServicePort) {
            if seen.insert(claim).inserted { claims.append(claim) }
        }
        for rule in snapshot.rules(in: nodePorts) ?? [] {
            // Older kube-proxy writes a KUBE-MARK-MASQ rule before each jump to the Service.
            guard let target = rule.target.jumpedChain, target != "KUBE-MARK-MASQ",
                let (transport, port) = LegacyNatInterpreter.destinationPort(of: rule)
            else { continue }
            for address in addresses.isEmpty ? [nil] : addresses {
                add(
                    ServicePort(
                        kind: .nodePort, protocol: transport, family: snapshot.family, address: address, port: port,
                        service: comment(of: rule), store: snapshot.store, table: "nat", chain: nodePorts,
                        reachable: jump != nil && !addresses.isEmpty, rule: rule.saveLine(chain: nodePorts), hookPosition: jump))
            }
        }
        for rule in serviceRules {
            guard let text = comment(of: rule), let address = hostAddress(rule, snapshot.family),
                let (transport, port) = LegacyNatInterpreter.destinationPort(of: rule)
            else { continue }
            let kind: ServicePort.Kind
            let service: Substring
            if text.hasSuffix(" external IP") {
                (kind, service) = (.externalIP, text.dropLast(" external IP".count))
            } else if text.hasSuffix(" loadbalancer IP") {
                (kind, service) = (.loadBalancerIP, text.dropLast(" loadbalancer IP".count))
            } else {
                continue
            }
            add(
                ServicePort(
                    kind: kind, protocol: transport, family: snapshot.family, address: address, port: port,
                    service: String(service), store: snapshot.store, table: "nat", chain: services, reachable: jump != nil,
                    rule: rule.saveLine(chain: services), hookPosition: jump))
        }
        return claims
    }

    static func comment(of rule: IPTablesRule) -> String? {
        for match in rule.matches {
            if case .comment(let text) = match { return text }
        }
        return nil
    }

    /// The rule's `-d <address>/32` (or /128); nil without one or for a wider match.
    static func hostAddress(_ rule: IPTablesRule, _ family: IPFamily) -> IPAddress? {
        guard let destination = rule.destination, !destination.isInverted, destination.value.prefixLength == family.addressBits else { return nil }
        return destination.value.address
    }
}
