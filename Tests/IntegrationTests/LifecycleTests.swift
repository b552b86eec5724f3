import Foundation
import Testing

extension NamespaceTests {
    /// ADD, CHECK and DEL as a runtime drives them, read back from the kernel with iptables-legacy-save.
    @Suite
    struct LifecycleTests {
        static var mappings: [[String: Any]] {
            [
                ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                ["hostPort": 8081, "containerPort": 81, "protocol": "udp"],
                ["hostPort": 8082, "containerPort": 82, "protocol": "tcp", "hostIP": NetnsLab.nodeIPv6],
            ]
        }

        static let canary = ["-s", "203.0.113.77/32", "-m", "comment", "--comment", "canary", "-j", "RETURN"]

        @Test func canaryRulesSurviveAddAndDel() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            for table in ["iptables-legacy", "ip6tables-legacy"] {
                let source = table.hasPrefix("ip6") ? "2001:db8:ffff::77/128" : "203.0.113.77/32"
                var canary = Self.canary
                canary[1] = source
                try lab.inNode(table, "-t", "nat", "-N", "CNI-HOSTPORT-DNAT")
                for chain in ["CNI-HOSTPORT-DNAT", "PREROUTING", "POSTROUTING"] {
                    try Command.check(["ip", "netns", "exec", lab.node, table, "-t", "nat", "-A", chain] + canary)
                }
            }
            let pod = try lab.addPod("c", chain: try lab.chain("20-hostport-dualstack.conflist"), mappings: Self.mappings)
            for v6 in [false, true] {
                let table = try lab.natTable(v6: v6)
                #expect(table.components(separatedBy: "--comment canary").count == 4, "\(table)")
                #expect(table.contains(pod.containerID))
            }
            try lab.deletePod(pod)
            for v6 in [false, true] {
                let table = try lab.natTable(v6: v6)
                #expect(table.components(separatedBy: "--comment canary").count == 4, "\(table)")
                #expect(!table.contains(pod.containerID))
            }
        }

        /// What a `kill -9` between the two families' commits leaves (IPv4 complete, IPv6 without
        /// the pod): CHECK names the family at fault and only it, and DEL removes the rest.
        @Test func checkNamesTheFamilyWithoutThePod() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let config = DirectPortmap.config(
                mappings: [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]],
                addresses: ["10.88.0.5/24", "2001:db8:88::5/64"])
            try #require(try plugin.run("ADD", config).succeeded)
            let chain = try #require(
                try lab.natTable(v6: true).split(separator: "\n").first { $0.hasPrefix(":CNI-DN-") }?
                    .dropFirst().split(separator: " ").first)
            for arguments in [["-F", "CNI-HOSTPORT-DNAT"], ["-F", String(chain)], ["-X", String(chain)]] {
                try Command.check(["ip", "netns", "exec", lab.node, "ip6tables-legacy", "-t", "nat"] + arguments)
            }
            let check = try plugin.run("CHECK", config)
            #expect(check.status == 1)
            let error = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
            #expect(error["code"] as? Int == 101)
            #expect((error["msg"] as? String) == "ip6tables nat: chain \(chain) is missing (iptables-legacy)", "\(check.stdout)")
            #expect(!(error["details"] as? String ?? "").contains("iptables nat:"), "IPv4 is complete: \(check.stdout)")
            #expect(try plugin.run("DEL", config).succeeded)
            #expect(!(try lab.natTable()).contains("ctr-diff-1"))
        }

        @Test func addTwiceAddsNothingDelTwiceSucceedsAndLeavesNothing() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let chain = try lab.chain("20-hostport-dualstack.conflist")
            let pod = try lab.addPod("i", chain: chain, mappings: Self.mappings)
            let once = (try lab.natTable(), try lab.natTable(v6: true))
            let again = try chain.run(
                "ADD", containerID: pod.containerID, netns: pod.name, mappings: Self.mappings,
                prevResult: (pod.result as! [String: Any]), only: "portmap")
            #expect(again[0].succeeded, "\(again[0].stdout)")
            #expect(try lab.natTable() == once.0)
            #expect(try lab.natTable(v6: true) == once.1)

            let dnatChain = try #require(once.0.split(separator: "\n").first { $0.hasPrefix(":CNI-DN-") })
            for _ in 0..<2 {
                let del = try chain.run(
                    "DEL", containerID: pod.containerID, netns: pod.name, mappings: Self.mappings,
                    prevResult: pod.result, only: "portmap")
                #expect(del[0].succeeded, "\(del[0].stdout)")
                #expect(del[0].stdout.isEmpty)
            }
            for v6 in [false, true] {
                let table = try lab.natTable(v6: v6)
                #expect(!table.contains(pod.containerID))
                #expect(!table.contains(String(dnatChain.dropFirst().prefix(28))))
                #expect(table.contains(":CNI-HOSTPORT-DNAT"), "the shared chains stay, as with the Go plugin")
            }
        }

        /// CHECK passes for an IPv4-only pod (the Go 1.1.1 plugin fails it when ip6tables is usable)
        /// and names the rule that went missing.
        @Test func checkPassesThenNamesTheMissingRule() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let chain = try lab.chain("10-hostport-ipv4.conflist")
            let pod = try lab.addPod("k", chain: chain, mappings: Self.mappings)
            let check = try chain.run("CHECK", containerID: pod.containerID, netns: pod.name, mappings: Self.mappings, prevResult: pod.result)
            #expect(check.allSatisfy { $0.succeeded }, "\(check.map(\.stdout))")

            let table = try lab.natTable()
            let dnatChain = try #require(table.split(separator: "\n").first { $0.hasPrefix(":CNI-DN-") }.map { String($0.dropFirst().prefix(28)) })
            try lab.inNode(
                "iptables-legacy", "-t", "nat", "-D", dnatChain, "-p", "tcp", "--dport", "8080", "-j", "DNAT",
                "--to-destination", "\(pod.address(v6: false)!):80")
            let failed = try chain.run(
                "CHECK", containerID: pod.containerID, netns: pod.name, mappings: Self.mappings,
                prevResult: pod.result, only: "portmap")[0]
            #expect(failed.status != 0)
            #expect(failed.stdout.contains(#""code": 101"#))
            #expect(failed.stdout.contains("rule missing: -A \(dnatChain) -p tcp -m tcp --dport 8080 -j DNAT"), "\(failed.stdout)")
        }

        /// DEL without prevResult (a runtime that lost it) still removes both families.
        @Test func delWithoutPrevResultCleansBothFamilies() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let chain = try lab.chain("20-hostport-dualstack.conflist")
            let pod = try lab.addPod("n", chain: chain, mappings: Self.mappings)
            let del = try chain.run(
                "DEL", containerID: pod.containerID, netns: pod.name, mappings: Self.mappings,
                prevResult: nil, only: "portmap")
            #expect(del[0].succeeded, "\(del[0].stdout)")
            #expect(!(try lab.natTable()).contains(pod.containerID))
            #expect(!(try lab.natTable(v6: true)).contains(pod.containerID))
        }
    }
}
