import PortmapCore

@testable import NFTablesBackend

/// The configs and containers the tests use: documentation and 10.x addresses only.
enum Fixtures {
    static let network = "hostport-dual"
    static let containerID = "3e1fdcd8a5e9"
    static let v4 = IPNetwork("10.89.0.5/24")!
    static let v6 = IPNetwork("2001:db8:89::5/64")!

    /// The mappings of the planner's golden test: wildcard TCP and UDP, and one bound per family.
    static let mappings = """
        {"hostPort": 8080, "containerPort": 80},
        {"hostPort": 5353, "containerPort": 53, "protocol": "udp"},
        {"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.1"},
        {"hostPort": 9443, "containerPort": 443, "hostIP": "2001:db8::1"}
        """

    static func config(_ mappings: String = mappings, network: String = network, _ extra: String = "") throws -> PortMapConfig {
        let json = """
            {"cniVersion": "1.1.0", "name": "\(network)", "type": "portmap", "backend": "nftables", \(extra)
             "runtimeConfig": {"portMappings": [\(mappings)]}}
            """
        return try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
    }

    static func request(
        _ config: PortMapConfig, id: String = containerID,
        _ addresses: [IPFamily: IPNetwork] = [.ipv4: v4, .ipv6: v6]
    ) -> PortMapRequest {
        PortMapRequest(config: config, containerID: id, containerAddresses: addresses)
    }

    /// The elements ADD plans for `request`, per family.
    static func planned(_ request: PortMapRequest) -> [IPFamily: [NFTablesElement]] {
        request.containerAddresses.mapValues {
            NFTablesPlanner.plan(request.config, containerID: request.containerID, container: $0).elements
        }
    }
}
