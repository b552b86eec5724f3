import Foundation
import Testing

extension NamespaceTests {
    /// What the plugin does outside the nat table: UDP conntrack flushed on ADD and DEL,
    /// route_localnet for localhost hostPorts, and the guard against spoofed 127.0.0.0/8 packets.
    @Suite
    struct HostNetworkTests {
        static let ipv4 = "10-hostport-ipv4.conflist"

        /// `127.0.0.1:hostPort` from the node itself reaches the pod over TCP and UDP; the pod sees
        /// the bridge address (masqueraded), and route_localnet is on for the bridge.
        @Test(arguments: TestBackend.allCases)
        func localhostHostPortReachesThePod(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try lab.addPod("l", chain: try lab.chain(Self.ipv4, overrides: backend.overrides), mappings: TrafficTests.web)
            #expect(try lab.interfaceSetting(lab.bridge(Self.ipv4), "route_localnet") == "1")
            #expect(try lab.probe("tcp", "127.0.0.1", 8080, from: lab.node) == "l from 10.88.0.1")
            #expect(try lab.probe("udp", "127.0.0.1", 8081, from: lab.node) == "l from 10.88.0.1")
        }

        /// The UDP restart: a client keeps one source port; its pod is replaced by another with a
        /// different address on the same hostIP:hostPort. DEL removes the client's entry, the entry
        /// its retry made while no pod was there is removed by the next ADD, and the same source port
        /// then reaches the new pod. Entries for other ports and protocols are left alone.
        @Test(arguments: TestBackend.allCases)
        func udpClientFollowsTheRestartedPod(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let chain = try lab.chain(Self.ipv4, overrides: backend.overrides)
            let mapping: [[String: Any]] = [
                ["hostPort": 8081, "containerPort": 81, "protocol": "udp", "hostIP": NetnsLab.nodeIPv4],
                ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
            ]
            let first = try lab.addPod("r1", chain: chain, mappings: mapping)
            try lab.addPod("o", chain: chain, mappings: [["hostPort": 9091, "containerPort": 91, "protocol": "udp"]])
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081, sourcePort: 40123) == "r1 from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 9091, sourcePort: 40124) == "o from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "r1 from \(NetnsLab.clientIPv4)")
            let client = "src=\(NetnsLab.clientIPv4) dst=\(NetnsLab.nodeIPv4) sport=40123 dport=8081 "
            #expect(try lab.conntrack().contains { $0.contains(client) })

            try lab.deletePod(first)
            let afterDelete = try lab.conntrack()
            #expect(!afterDelete.contains { $0.contains(client) }, "DEL leaves the client's UDP entry:\n\(afterDelete.joined(separator: "\n"))")
            #expect(afterDelete.contains { $0.contains("sport=40124 dport=9091 ") }, "another port's entry survives")
            #expect(
                afterDelete.contains { $0.hasPrefix("ipv4") && $0.contains(" tcp ") && $0.contains("dport=8080 ") },
                "TCP entries survive")

            // While no pod serves the port, the retry is conntracked to the node itself.
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081, sourcePort: 40123) == nil)
            #expect(try lab.conntrack().contains { $0.contains(client) })
            let second = try lab.addPod("r2", chain: chain, mappings: mapping)
            #expect(second.address(v6: false) != first.address(v6: false))
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081, sourcePort: 40123) == "r2 from \(NetnsLab.clientIPv4)")
        }

        /// A datagram to 127.0.0.1:hostPort forged on the client's link: dropped by the guard, and
        /// delivered to the pod in a node whose config turns the guard off (iptables; the nftables
        /// table always has its guard chain).
        @Test(arguments: [(TestBackend.iptables, true), (.iptables, false), (.iptablesNFT, true), (.iptablesNFT, false), (.nftables, true)])
        func guardDropsSpoofedLocalnetPackets(backend: TestBackend, guardOn: Bool) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let log = lab.dataDir.appendingPathComponent("udp.log").path
            let overrides = backend.writesChains ? backend.overrides.merging(["localnetGuard": guardOn]) { $1 } : backend.overrides
            try lab.addPod("g", chain: try lab.chain(Self.ipv4, overrides: overrides), mappings: TrafficTests.web, udpLog: log)
            switch backend {
            case .iptables: #expect(try lab.natTable(table: "raw").contains(":CNI-HOSTPORT-GUARD") == guardOn)
            case .iptablesNFT: #expect(try lab.natTable(table: "raw", store: .nft).contains(":CNI-HOSTPORT-GUARD") == guardOn)
            case .nftables: #expect(try lab.nftTable().contains("chain localnet_guard"))
            }
            // The normal path still works, and shows the log works.
            #expect(try lab.probe("udp", NetnsLab.nodeIPv4, 8081) == "g from \(NetnsLab.clientIPv4)")
            let links = try JSONSerialization.jsonObject(with: Data(try lab.inNode("ip", "-j", "link", "show", "dev", lab.nodeLink).stdout.utf8))
            let nodeMAC = try #require(((links as? [[String: Any]])?.first?["address"]) as? String)
            try lab.inClient(
                "python3", Prerequisites.fixtures.appendingPathComponent("spoof_localnet.py").path,
                lab.clientLink, nodeMAC, NetnsLab.clientIPv4, "8081", "forged")
            Thread.sleep(forTimeInterval: 0.5)
            let received = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(received.contains("ping"))
            #expect(received.contains("forged") == !guardOn, "\(received)")
        }

        /// The plugin runs no program: ADD, CHECK and DEL with an empty PATH, traffic in between.
        @Test(arguments: TestBackend.allCases)
        func worksWithAnEmptyPATH(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            var chain = try lab.chain("20-hostport-dualstack.conflist", overrides: backend.overrides)
            chain.portmapPath = ""
            let pod = try lab.addPod("e", chain: chain, mappings: TrafficTests.web)
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "e from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.nodeIPv6, 8081) == "e from \(NetnsLab.clientIPv6)")
            #expect(try lab.probe("tcp", "127.0.0.1", 8080, from: lab.node) == "e from 10.89.0.1")
            let check = try chain.run(
                "CHECK", containerID: pod.containerID, netns: pod.name, mappings: TrafficTests.web,
                prevResult: pod.result, only: "portmap")[0]
            #expect(check.succeeded, "\(check.stdout)")
            let results = try lab.deletePod(pod)
            #expect(results.allSatisfy { $0.succeeded }, "\(results.map { $0.stdout })")
            #expect(try lab.ruleset(backend).allSatisfy { !$0.contains(pod.containerID) })
        }
    }
}
