import PortmapCore
import Snapshots

extension ConflictFinder {
    /// HostPorts on a port kube-proxy takes on the same address. In one nat table the chain
    /// PREROUTING jumps to first wins (kube-proxy prepends KUBE-SERVICES, so usually the
    /// Service); across stores the order the kernel registered their hooks decides.
    static func servicePortOverlaps(_ inventory: HostPortInventory) -> [Finding] {
        struct Port: Hashable { let family: IPFamily, transport: TransportProtocol, port: UInt16 }
        let byPort = Dictionary(grouping: inventory.mappings.indices) { index in
            let mapping = inventory.mappings[index]
            return Port(family: mapping.family, transport: mapping.protocol, port: mapping.hostPort)
        }
        let order = ClaimOrder(inventory.tables)
        var findings: [Finding] = []
        for (serviceIndex, service) in inventory.servicePorts.enumerated() {
            for index in byPort[Port(family: service.family, transport: service.protocol, port: service.port)] ?? [] {
                let mapping = inventory.mappings[index]
                guard service.accepts(mapping.hostIP) else { continue }
                // A hostPort on every address takes an external IP only if the node holds it
                // (`addrtype LOCAL`); external IPs are often only routed to the node.
                if let address = service.address, mapping.hostIP == nil, !inventory.snapshot.localAddresses.contains(address) { continue }
                let what = "\(service.kind.rawValue) \(service.service ?? "(no comment)")"
                let place = service.address.map { "on \($0)" } ?? "on every node address"
                let answers: String
                if service.store != mapping.store || service.table != mapping.table {
                    answers =
                        "the Service's rule is in \(service.store) \(service.table), the hostPort's in \(mapping.store) \(mapping.table): "
                        + "which answers depends on their nat hooks' priorities, and at equal priority on the order the hooks were registered"
                } else if let services = service.hookPosition, let hostPorts = order.hookPosition(of: mapping) {
                    answers =
                        services < hostPorts
                        ? "the Service answers (PREROUTING jumps to KUBE-SERVICES first)" : "the hostPort answers (PREROUTING jumps to its chain first)"
                } else {
                    answers = "one of the two is not reached from PREROUTING"
                }
                findings.append(
                    Finding(
                        kind: .servicePortOverlap, family: mapping.family,
                        message: "\(mapping.protocol)/\(mapping.hostPort) is kube-proxy's \(what) \(place) and \(owner(mapping))'s hostPort on "
                            + "\(addressText(mapping.hostIP)); \(answers)",
                        advice: "give the pod a hostPort outside the NodePort range (--service-node-port-range) and off the Service's external IPs",
                        mappings: [index], servicePorts: [serviceIndex]))
            }
        }
        return findings
    }
}
