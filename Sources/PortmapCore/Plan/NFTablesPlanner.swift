/// Plans a container's elements in the nftables layout (`NFTablesLayout`) and renders plans as
/// an `nft -f` script: what the unit tests compare, and what the integration tests load with the
/// `nft` tool to check that the plugin's netlink batch builds the very same table.
public enum NFTablesPlanner {
    /// nftables keeps at most 128 bytes of comment (with its NUL).
    static let maxOwnerLength = 127

    /// The comment that ties an element to its container: `<network>/<containerID>` (neither may
    /// hold a `/`), or, when that is longer than a comment can be, the container's iptables chain
    /// name (`CNI-DN-<hash>`), which DEL recomputes but which names no network.
    public static func owner(network: String, containerID: String) -> String {
        let owner = "\(network)/\(containerID)"
        return owner.utf8.count <= maxOwnerLength ? owner : ChainName.dnat(network: network, containerID: containerID)
    }

    /// The network and container an owner comment names; nil for a hashed owner or a foreign one.
    public static func parseOwner(_ owner: String) -> (network: String, containerID: String)? {
        let parts = owner.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, CNIEnvironment.isValidName(String(parts[0])), CNIEnvironment.isValidName(String(parts[1])) else {
            return nil
        }
        return (String(parts[0]), String(parts[1]))
    }

    /// The elements for the container at `container` in its family.
    public static func plan(_ config: PortMapConfig, containerID: String, container: IPNetwork) -> NFTablesFamilyPlan {
        let family = container.family
        let owner = owner(network: config.name, containerID: containerID)
        var elements: [NFTablesElement] = []
        var pods: [NFTablesElement.Destination] = []
        for mapping in config.portMappings where mapping.applies(to: family) {
            let destination = NFTablesElement.Destination(address: container.address, port: mapping.containerPort)
            if let bound = mapping.boundAddress {
                elements.append(
                    .init(
                        set: .hostIPDNAT, key: .hostPort(bound, mapping.protocol, mapping.hostPort),
                        destination: destination, owner: owner))
            } else {
                elements.append(
                    .init(
                        set: .hostPortDNAT, key: .port(mapping.protocol, mapping.hostPort),
                        destination: destination, owner: owner))
            }
            pods.append(destination)
        }
        if config.snat && !pods.isEmpty {
            let sources: [IPNetwork]
            if config.masqAll {
                sources = [IPNetwork(address: family == .ipv4 ? .v4(0) : .v6(0, 0), prefixLength: 0)!]
            } else if family == .ipv4 {
                sources = [container.network, IPNetwork(host: .v4(0x7F00_0001))]
            } else {
                sources = [container.network]
            }
            elements += sources.map { .init(set: .masquerade, key: .sourceToPod($0, container.address), owner: owner) }
        }
        return NFTablesFamilyPlan(family: family, elements: elements)
    }

    // MARK: - nft syntax

    /// The table as an `nft -f` script: the skeleton every container shares, then `elements` as
    /// `add element` lines (in the order given).
    public static func script(family: IPFamily, elements: [NFTablesElement]) -> String {
        let (ip, address) = family == .ipv4 ? ("ip", "ipv4_addr") : ("ip6", "ipv6_addr")
        let table = "\(ip) \(NFTablesLayout.table)"
        var lines: [String] = [
            "table \(table) {",
            "\tmap \(NFTablesElement.Set.hostIPDNAT.rawValue) {",
            "\t\ttype \(address) . inet_proto . inet_service : \(address) . inet_service",
            "\t\tflags timeout",
            "\t}",
            "\tmap \(NFTablesElement.Set.hostPortDNAT.rawValue) {",
            "\t\ttype inet_proto . inet_service : \(address) . inet_service",
            "\t\tflags timeout",
            "\t}",
            "\tset \(NFTablesElement.Set.masquerade.rawValue) {",
            "\t\ttype \(address) . \(address)",
            "\t\tflags interval,timeout",
            "\t}",
            "\tchain \(NFTablesLayout.dispatchChain) {",
            "\t\tdnat \(ip) to \(ip) daddr . meta l4proto . th dport map @\(NFTablesElement.Set.hostIPDNAT.rawValue)",
            "\t\tdnat \(ip) to meta l4proto . th dport map @\(NFTablesElement.Set.hostPortDNAT.rawValue)",
            "\t}",
            "\tchain prerouting {",
            "\t\ttype nat hook prerouting priority dstnat; policy accept;",
            "\t\tfib daddr type local jump \(NFTablesLayout.dispatchChain)",
            "\t}",
            "\tchain output {",
            "\t\ttype nat hook output priority -100; policy accept;",
            "\t\tfib daddr type local jump \(NFTablesLayout.dispatchChain)",
            "\t}",
            "\tchain postrouting {",
            "\t\ttype nat hook postrouting priority srcnat; policy accept;",
            "\t\tct status dnat \(ip) saddr . \(ip) daddr @\(NFTablesElement.Set.masquerade.rawValue) masquerade",
            "\t}",
        ]
        if family == .ipv4 {
            lines += [
                "\tchain \(NFTablesLayout.guardChain) {",
                "\t\ttype filter hook prerouting priority raw; policy accept;",
                "\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 drop",
                "\t}",
            ]
        }
        lines.append("}")
        for element in elements {
            lines.append("add element \(table) \(element.set.rawValue) { \(text(of: element)) }")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One element in nft syntax: `key comment "owner" : value`.
    public static func text(of element: NFTablesElement) -> String {
        let key: String
        switch element.key {
        case .port(let transport, let port): key = "\(transport.rawValue) . \(port)"
        case .hostPort(let address, let transport, let port): key = "\(address) . \(transport.rawValue) . \(port)"
        case .sourceToPod(let source, let pod):
            let range = source.prefixLength == source.family.addressBits ? source.address.description : source.description
            key = "\(range) . \(pod)"
        }
        let value = element.destination.map { " : \($0.address) . \($0.port)" } ?? ""
        return "\(key) comment \"\(element.owner)\"\(value)"
    }
}
