import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// Upstream's Go portmap with `"backend": "nftables"` (its table `cni_hostport`) and ours (its
    /// table `cni_portmaps`) on one dual-stack node, with traffic from the client: each binary's
    /// pods answer beside the other's, upstream's ADD (which flushes its own base chains) leaves
    /// ours alone, ours DELs upstream's pods (they stop answering and no rule names them), each
    /// binary CHECKs and DELs its own pods before and after, our GC and STATUS leave upstream's
    /// table alone, and what neither plugin owns stays.
    @Suite(.enabled(if: Prerequisites.upstreamPlugin != nil, Prerequisites.upstreamMissing))
    struct UpstreamNFTablesTests {
        static let file = "20-hostport-dualstack.conflist"

        static func port(_ hostPort: Int) -> [[String: Any]] { [["hostPort": hostPort, "containerPort": 80, "protocol": "tcp"]] }

        /// Upstream's table of a family as `nft list table` prints it ("" when absent).
        static func upstreamTable(_ lab: NetnsLab, v6: Bool) throws -> String {
            let result = try Command.run(["ip", "netns", "exec", lab.node, "nft", "list", "table", v6 ? "ip6" : "ip", "cni_hostport"])
            return result.succeeded ? result.stdout : ""
        }

        static func answers(_ lab: NetnsLab, _ pod: String, _ port: Int) throws -> Bool {
            try lab.probe("tcp", NetnsLab.nodeIPv4, port) == "\(pod) from \(NetnsLab.clientIPv4)"
                && lab.probe("tcp", NetnsLab.nodeIPv6, port) == "\(pod) from \(NetnsLab.clientIPv6)"
        }

        static func silent(_ lab: NetnsLab, _ port: Int) throws -> Bool {
            try lab.probe("tcp", NetnsLab.nodeIPv4, port) == nil && lab.probe("tcp", NetnsLab.nodeIPv6, port) == nil
        }

        @Test func bothLayoutsShareANodeAndOursTakesUpstreamsPodsOver() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try lab.inNode(
                "nft", "add table inet canary; add chain inet canary c { type filter hook input priority 10; }; add rule inet canary c ip saddr 203.0.113.77 accept")
            let canaries = [try lab.inNode("nft", "list", "table", "inet", "canary").stdout, try lab.natTable(table: "mangle")]
            var upstream = try lab.chain(Self.file, portmap: .upstream, overrides: ["backend": "nftables"])
            upstream.portmapPath = "/usr/sbin:/usr/bin:/sbin:/bin"  // upstream runs `nft`
            let ours = try lab.chain(Self.file, overrides: ["backend": "nftables"])

            let first = try lab.addPod("u", chain: upstream, mappings: Self.port(8111))
            #expect(try Self.answers(lab, "u", 8111))
            let mine = try lab.addPod("o", chain: ours, mappings: Self.port(8112))
            #expect(try Self.answers(lab, "o", 8112))
            #expect(try Self.answers(lab, "u", 8111))
            #expect(try lab.wrote(mine, with: .nftables))
            #expect(!(try Self.upstreamTable(lab, v6: false) + Self.upstreamTable(lab, v6: true)).contains(mine.containerID))

            // `hostports` lists both tables' pods, each with its store, and explains upstream's.
            let (status, document) = try HostportsCommandTests.json(lab, ["list"])
            #expect(status == 0)
            let rows = (document["mappings"] as? [[String: Any]] ?? []).map(HostportsCommandTests.row)
            let listed = Set(rows.map { "\($0.store) \($0.table) \($0.containerID ?? "-") \($0.hostPort) \($0.family)" })
            #expect(
                listed == [
                    "nftables-upstream ip cni_hostport \(first.containerID) 8111 ipv4", "nftables-upstream ip6 cni_hostport \(first.containerID) 8111 ipv6",
                    "nftables ip cni_portmaps \(mine.containerID) 8112 ipv4", "nftables ip6 cni_portmaps \(mine.containerID) 8112 ipv6",
                ], "\(rows)")
            #expect(try HostportsCommandTests.conflicts(lab).status == 0)
            try HostportsCommandTests.explain(lab, NetnsLab.nodeIPv4, 8111, failsAt: nil)
            try HostportsCommandTests.explain(lab, NetnsLab.nodeIPv6, 8112, failsAt: nil)

            // Upstream's ADD after ours rewrites its own chains only.
            let second = try lab.addPod("v", chain: upstream, mappings: Self.port(8113))
            #expect(try Self.answers(lab, "v", 8113))
            #expect(try Self.answers(lab, "o", 8112))
            for pod in [first, second] {
                let check = try upstream.run("CHECK", containerID: pod.containerID, netns: pod.name, mappings: pod.mappings, prevResult: pod.result)
                #expect(check.allSatisfy { $0.status == 0 }, "upstream's CHECK of its pod: \(check.map(\.stdout))")
            }
            let check = try ours.run("CHECK", containerID: mine.containerID, netns: mine.name, mappings: mine.mappings, prevResult: mine.result)
            #expect(check.allSatisfy { $0.status == 0 }, "our CHECK of our pod: \(check.map(\.stdout))")

            // Our GC (listing only our pod) and STATUS leave upstream's table as it is: its comments
            // name no network, so GC cannot tell its pods from another network's.
            let tables = [try Self.upstreamTable(lab, v6: false), try Self.upstreamTable(lab, v6: true)]
            let direct = DirectPortmap(lab: lab, portmap: .ours)
            let network: [String: Any] = ["cniVersion": "1.1.0", "name": "hostport-dual", "type": "portmap", "backend": "nftables"]
            let gc = try direct.run(
                "GC", network.merging(GCStatusTests.gcConfig(keeping: [mine.containerID], network: "hostport-dual")) { old, _ in old },
                env: GCStatusTests.noAttachment)
            #expect(gc.status == 0, "\(gc.stdout)\(gc.stderr)")
            let ready = try direct.run("STATUS", network, env: GCStatusTests.noAttachment)
            #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
            #expect([try Self.upstreamTable(lab, v6: false), try Self.upstreamTable(lab, v6: true)] == tables)
            #expect(try Self.answers(lab, "u", 8111) && Self.answers(lab, "v", 8113) && Self.answers(lab, "o", 8112))

            // Ours takes upstream's first pod over: its DEL removes upstream's rules of it, both families.
            let del = try ours.run(
                "DEL", containerID: first.containerID, netns: first.name, mappings: first.mappings, prevResult: first.result, only: "portmap")
            #expect(del.map(\.status) == [0], "\(del.map(\.stdout))")
            #expect(try Self.silent(lab, 8111), "upstream's pod still answers after our DEL")
            for v6 in [false, true] {
                let table = try Self.upstreamTable(lab, v6: v6)
                #expect(!table.contains(first.containerID), "a rule of the pod is left in upstream's table (v6: \(v6)):\n\(table)")
                #expect(table.contains(second.containerID), "our DEL took another pod's rules (v6: \(v6)):\n\(table)")
            }
            #expect(try Self.answers(lab, "v", 8113))
            #expect(try Self.answers(lab, "o", 8112))

            // Upstream keeps working for its pods after ours ran: it adds, CHECKs and DELs.
            let third = try lab.addPod("w", chain: upstream, mappings: Self.port(8114))
            #expect(try Self.answers(lab, "w", 8114))
            for pod in [second, third] {
                let check = try upstream.run("CHECK", containerID: pod.containerID, netns: pod.name, mappings: pod.mappings, prevResult: pod.result)
                #expect(check.allSatisfy { $0.status == 0 }, "upstream's CHECK after ours ran: \(check.map(\.stdout))")
                let gone = try upstream.run(
                    "DEL", containerID: pod.containerID, netns: pod.name, mappings: pod.mappings, prevResult: pod.result, only: "portmap")
                #expect(gone.map(\.status) == [0], "\(gone.map(\.stderr))")
            }
            #expect(try Self.silent(lab, 8113) && Self.silent(lab, 8114))
            #expect(try Self.answers(lab, "o", 8112))
            let ourDel = try ours.run(
                "DEL", containerID: mine.containerID, netns: mine.name, mappings: mine.mappings, prevResult: mine.result, only: "portmap")
            #expect(ourDel.map(\.status) == [0], "\(ourDel.map(\.stdout))")
            #expect(try Self.silent(lab, 8112))
            #expect(!(try lab.nftTable() + lab.nftTable(v6: true)).contains(mine.containerID))
            #expect([try lab.inNode("nft", "list", "table", "inet", "canary").stdout, try lab.natTable(table: "mangle")] == canaries)
        }
    }
}
