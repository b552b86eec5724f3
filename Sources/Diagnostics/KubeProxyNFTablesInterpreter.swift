import PortmapCore
import Snapshots

/// Reads kube-proxy's nftables mode (table `ip kube-proxy` / `ip6 kube-proxy`) back into the node
/// ports it takes: its `services` chain looks the packet up in verdict maps, `service-ips`
/// keyed by address, protocol and port (cluster IPs go to `service-…` chains, external and
/// load-balancer IPs to `external-…` ones), and `service-nodeports` keyed by protocol and port,
/// for destinations in `nodeport-ips` (or every local address, `fib daddr type local`).
enum KubeProxyNFTablesInterpreter {
    static func servicePorts(_ table: ForeignNFTablesSnapshot) -> [ServicePort] {
        guard ForeignNFTablesInterpreter.owner(of: table) == .kubeProxy else { return [] }
        let family: IPFamily = table.family == "ip6" ? .ipv6 : .ipv4
        let reached = ForeignNFTablesInterpreter.reachableChains(table)
        let priority = table.chains.first { $0.type == "nat" && $0.hook == .prerouting }?.priority ?? HostPortTable.natDestinationPriority
        var claims: [ServicePort] = []
        for rule in table.rules {
            guard let name = rule.verdictMap, let map = table.set(name), let fields = NFTDatatype.fields(of: map.keyType) else { continue }
            let nodePortAddresses: [IPAddress?] =
                rule.localDestination
                ? [nil]
                : rule.lookups.flatMap { set in
                    (table.set(set)?.elements ?? []).compactMap { element -> IPAddress?? in
                        guard let set = table.set(set), case .address(let address)? = NFTDatatype.decode(element.key, type: set.keyType)?.first
                        else { return nil }
                        return .some(address)
                    }
                }
            for element in map.elements {
                guard let key = NFTDatatype.decode(element.key, type: map.keyType), let chain = element.chain else { continue }
                var address: IPAddress?
                var transport: TransportProtocol?
                var port: UInt16?
                for field in key {
                    switch field {
                    case .address(let value): address = value
                    case .protocol(let value): transport = value
                    case .port(let value): port = value
                    }
                }
                // Ports of Services without endpoints go to `reject-chain` (`no-endpoint-*` maps):
                // rejected in kube-proxy's filter chains, not forwarded.
                guard let transport, let port, chain.hasPrefix("external-") else { continue }
                let common = (service: service(ofChain: chain), rule: "\(rule.chain): \(name) element → \(chain)")
                if fields.first == NFTDatatype.ipv4Address || fields.first == NFTDatatype.ipv6Address {
                    // Cluster IPs (`service-…`) are virtual, not the node's: only external and
                    // load-balancer IPs claim a node port.
                    guard let address else { continue }
                    claims.append(
                        ServicePort(
                            kind: .externalIP, protocol: transport, family: family, address: address, port: port, service: common.service,
                            store: .nftables, table: table.label, chain: name, reachable: reached.contains(rule.chain), rule: common.rule, priority: priority))
                } else {
                    for nodeAddress in nodePortAddresses {
                        claims.append(
                            ServicePort(
                                kind: .nodePort, protocol: transport, family: family, address: nodeAddress, port: port,
                                service: common.service, store: .nftables, table: table.label, chain: name,
                                reachable: reached.contains(rule.chain), rule: common.rule, priority: priority))
                    }
                }
            }
        }
        return claims
    }

    /// kube-proxy names a Service port's chains `<kind>-<hash>-<namespace>/<name>/<protocol>/<port>`;
    /// returned as its iptables comments name it, `<namespace>/<name>:<port>`.
    static func service(ofChain chain: String) -> String? {
        let parts = chain.split(separator: "-", maxSplits: 2)
        guard parts.count == 3 else { return nil }
        let fields = parts[2].split(separator: "/")
        guard fields.count == 4 else { return String(parts[2]) }
        return "\(fields[0])/\(fields[1]):\(fields[3])"
    }
}
