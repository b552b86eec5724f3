import Foundation
import Testing

extension NamespaceTests {
    /// Real TCP and UDP from the client namespace to the node's hostPorts, through our plugin, with
    /// each backend (conditions are the iptables backend's only).
    @Suite
    struct TrafficTests {
        static var web: [[String: Any]] {
            [
                ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                ["hostPort": 8081, "containerPort": 81, "protocol": "udp"],
            ]
        }

        @Test(arguments: TestBackend.allCases)
        func ipv4TCPAndUDPReachThePod(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod("a", chain: try lab.chain("10-hostport-ipv4.conflist", overrides: backend.overrides), mappings: Self.web)
            #expect(try lab.wrote(pod, with: backend))
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "a from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081) == "a from \(NetnsLab.clientIPv4)")
            // Every local address answers for a mapping without hostIP.
            #expect(try lab.probe("tcp", NetnsLab.secondNodeIPv4, 8080) == "a from \(NetnsLab.clientIPv4)")
        }

        @Test(arguments: TestBackend.allCases)
        func ipv6TCPAndUDPReachADualStackPod(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod("d", chain: try lab.chain("20-hostport-dualstack.conflist", overrides: backend.overrides), mappings: Self.web)
            #expect(pod.address(v6: true) != nil)
            #expect(try lab.wrote(pod, with: backend))
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv6, 8080) == "d from \(NetnsLab.clientIPv6)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv6, 8081) == "d from \(NetnsLab.clientIPv6)")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "d from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081) == "d from \(NetnsLab.clientIPv4)")
        }

        /// A hostIP-bound port answers on that address only: never on the node's other address.
        @Test(arguments: TestBackend.allCases)
        func hostIPBoundPortAnswersOnlyOnItsAddress(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try lab.addPod(
                "b", chain: try lab.chain("20-hostport-dualstack.conflist", overrides: backend.overrides),
                mappings: [
                    ["hostPort": 9090, "containerPort": 90, "protocol": "tcp", "hostIP": NetnsLab.nodeIPv4],
                    ["hostPort": 9091, "containerPort": 91, "protocol": "udp", "hostIP": NetnsLab.nodeIPv4],
                    ["hostPort": 9092, "containerPort": 92, "protocol": "tcp", "hostIP": NetnsLab.nodeIPv6],
                ])
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 9090) == "b from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 9091) == "b from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv6, 9092) == "b from \(NetnsLab.clientIPv6)")
            #expect(try lab.probe("tcp", NetnsLab.secondNodeIPv4, 9090) == nil)
            #expect(try lab.probe("udp", NetnsLab.secondNodeIPv4, 9091) == nil)
            #expect(try lab.probe("tcp", NetnsLab.secondNodeIPv6, 9092) == nil)
            // The IPv4-bound port has no IPv6 rule at all, and vice versa.
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv6, 9090) == nil)
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 9092) == nil)
        }

        /// A pod reaching its own hostPort: SETMARK + MASQUERADE (nftables: the masq_pairs element)
        /// make the reply come back through the bridge (hairpin), so the pod sees the connection from
        /// the bridge gateway, not from itself.
        @Test(arguments: TestBackend.allCases)
        func hairpinReachesThePodItself(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod("h", chain: try lab.chain("10-hostport-ipv4.conflist", overrides: backend.overrides), mappings: Self.web)
            let answer = try #require(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080, from: pod.name))
            #expect(answer == "h from 10.88.0.1")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081, from: pod.name) == "h from 10.88.0.1")
        }

        /// Conditions narrow the entry rules: `-p tcp` leaves the UDP mapping unreachable, and a
        /// source condition that excludes the client leaves even TCP unanswered from it.
        @Test func conditionsNarrowWhoReachesThePod() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try lab.addPod(
                "p", chain: try lab.chain("10-hostport-ipv4.conflist", overrides: ["conditionsV4": ["-p", "tcp"]]),
                mappings: Self.web)
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "p from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081) == nil)
            try lab.addPod(
                "q",
                chain: try lab.chain(
                    "20-hostport-dualstack.conflist",
                    overrides: ["conditionsV4": ["!", "-s", "\(NetnsLab.clientIPv4)/32"]]),
                mappings: [["hostPort": 9080, "containerPort": 80, "protocol": "tcp"]])
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 9080) == nil)
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv6, 9080) == "q from \(NetnsLab.clientIPv6)")
        }
    }
}
