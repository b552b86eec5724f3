import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// `hostports` run in a lab's node namespace, over pods ADDed by our plugin and by Debian's Go
    /// plugin: what it lists, the conflicts it finds, and whether `explain`'s verdict is what real
    /// traffic does. Every run must leave the legacy ruleset, which tables exist, and the nftables
    /// ruleset as they were.
    @Suite
    struct HostportsCommandTests {
        static let ipv4 = "10-hostport-ipv4.conflist", dualStack = "20-hostport-dualstack.conflist"

        /// One mapping as `list --json` describes it, minus the rule text and masquerade details.
        struct Row: Hashable, CustomStringConvertible {
            var network: String?
            var containerID: String?
            var proto: String
            var family: String
            var hostIP: String?
            var hostPort: Int
            var podIP: String
            var podPort: Int
            var store = "iptables-legacy"
            var table = "nat"

            var description: String {
                "\(network ?? "-")/\(containerID ?? "-") \(proto) \(hostIP ?? "*"):\(hostPort) -> \(podIP):\(podPort) (\(family), \(store) \(table))"
            }
        }

        /// Runs `hostports <arguments>` in the node namespace. The ruleset of both families and the
        /// list of tables that exist must be byte for byte the same afterwards.
        @discardableResult
        static func hostports(_ lab: NetnsLab, _ arguments: [String]) throws -> Command.Result {
            let before = try lab.rulesets()
            let result = try Command.run(["ip", "netns", "exec", lab.node, Prerequisites.hostports.path] + arguments)
            #expect(try lab.rulesets() == before, "`hostports \(arguments.joined(separator: " "))` changed the ruleset")
            return result
        }

        /// `hostports <arguments> --json`: the exit status and the document (schema 1).
        static func json(_ lab: NetnsLab, _ arguments: [String]) throws -> (status: Int32, document: [String: Any]) {
            let result = try hostports(lab, arguments + ["--json"])
            let document = try #require(
                try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                "not a JSON object: \(result.stdout)\(result.stderr)")
            #expect(document["schema"] as? Int == 1)
            return (result.status, document)
        }

        static func row(_ mapping: [String: Any]) -> Row {
            Row(
                network: mapping["network"] as? String, containerID: mapping["containerID"] as? String,
                proto: mapping["protocol"] as? String ?? "?", family: mapping["family"] as? String ?? "?",
                hostIP: mapping["hostIP"] as? String, hostPort: mapping["hostPort"] as? Int ?? -1,
                podIP: mapping["podIP"] as? String ?? "?", podPort: mapping["podPort"] as? Int ?? -1,
                store: mapping["store"] as? String ?? "?", table: mapping["table"] as? String ?? "?")
        }

        /// What `list` must show for `pod`: each mapping in each family the pod has an address in,
        /// a hostIP-bound one in its address's family only; pod addresses from the ADD result.
        static func expectedRows(_ pod: NetnsLab.Pod) -> Set<Row> {
            var rows: Set<Row> = []
            for mapping in pod.mappings {
                let hostIP = mapping["hostIP"] as? String
                for v6 in [false, true] where hostIP.map({ $0.contains(":") == v6 }) ?? true {
                    guard let podIP = pod.address(v6: v6) else { continue }
                    rows.insert(
                        Row(
                            network: pod.chain.name, containerID: pod.containerID, proto: mapping["protocol"] as! String,
                            family: v6 ? "ipv6" : "ipv4", hostIP: hostIP, hostPort: mapping["hostPort"] as! Int,
                            podIP: podIP, podPort: mapping["containerPort"] as! Int))
                }
            }
            return rows
        }

        /// `conflicts --json`: the exit status and the findings.
        static func conflicts(_ lab: NetnsLab) throws -> (status: Int32, findings: [[String: Any]]) {
            let (status, document) = try json(lab, ["conflicts"])
            return (status, try #require(document["conflicts"] as? [[String: Any]], "\(document)"))
        }

        /// `explain host:port --json` next to a real TCP request to the same place (from the client,
        /// or from `namespace`): explain must stop at `step` (nil: reach a pod), and the request must
        /// be answered exactly when explain says the packet reaches a pod.
        @discardableResult
        static func explain(
            _ lab: NetnsLab, _ host: String, _ port: Int, from namespace: String? = nil,
            failsAt step: String?
        ) throws -> [String: Any] {
            let (status, document) = try json(lab, ["explain", host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"])
            let answers = try #require(document["answers"] as? Bool, "\(document)")
            #expect(document["failedStep"] as? String == step, "\(document)")
            #expect(answers == (step == nil))
            #expect(status == (answers ? 0 : 1))
            let reply = try lab.probe("tcp", host, port, from: namespace)
            #expect(
                (reply != nil) == answers,
                "explain: \(document["verdict"] ?? "?"); the request to \(host):\(port) got \(reply ?? "no answer")")
            return document
        }

        /// Pods of the nftables backend beside one of the legacy layout: listed from their map
        /// elements with their owners, each claim of a port in both stores reported, and explain's
        /// path through the maps agreeing with real traffic (the hostIP map first).
        @Test func readsTheNFTablesBackend() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let nft = ["backend": "nftables"]
            let dual = try lab.addPod(
                "nft-dual", chain: try lab.chain(Self.dualStack, overrides: nft),
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8081, "containerPort": 81, "protocol": "udp"],
                ])
            let bound = try lab.addPod(
                "nft-bound", chain: try lab.chain(Self.dualStack, overrides: nft),
                mappings: [
                    ["hostPort": 9090, "containerPort": 90, "protocol": "tcp", "hostIP": NetnsLab.secondNodeIPv4]
                ])
            let (status, document) = try Self.json(lab, ["list"])
            #expect(status == 0)
            let rows = Set((document["mappings"] as? [[String: Any]] ?? []).map(Self.row))
            var expected: Set<Row> = []
            for pod in [dual, bound] {
                for var row in Self.expectedRows(pod) {
                    row.store = "nftables"
                    row.table = row.family == "ipv4" ? "ip cni_portmaps" : "ip6 cni_portmaps"
                    expected.insert(row)
                }
            }
            #expect(rows == expected)
            #expect(try Self.conflicts(lab).status == 0)
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: nil)
            try Self.explain(lab, NetnsLab.nodeIPv6, 8080, failsAt: nil)
            try Self.explain(lab, NetnsLab.secondNodeIPv4, 9090, failsAt: nil)
            try Self.explain(lab, NetnsLab.nodeIPv4, 9090, failsAt: "dnat")
            try Self.explain(lab, NetnsLab.nodeIPv4, 7070, failsAt: "entry-rule")

            // The same port through the legacy layout as well: both claims are reported.
            try lab.addPod("legacy", chain: try lab.chain(Self.ipv4), mappings: [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]])
            let (conflictStatus, findings) = try Self.conflicts(lab)
            #expect(conflictStatus == 1)
            #expect(findings.map { $0["kind"] as? String } == ["duplicate-claim"])
            #expect((findings.first?["message"] as? String)?.contains("one in iptables-legacy, one in nftables") == true)
        }

        /// A split node: the Go plugin's pods in both iptables stores (its binary's `iptables`
        /// changed with pods running), and ours in iptables-nft while kube-proxy's chains are in
        /// the legacy store. Every row names its store; `conflicts` reports each split.
        @Test func reportsASplitNode() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let config = { (address: String) in
                DirectPortmap.config(mappings: [["hostPort": 8088, "containerPort": 80, "protocol": "tcp"]], addresses: ["10.88.0.\(address)/24"])
            }
            try #require(try DirectPortmap(lab: lab, portmap: .go).run("ADD", config("50"), containerID: "go-legacy").succeeded)
            try #require(try DirectPortmap(lab: lab, portmap: .go, iptables: .nft).run("ADD", config("51"), containerID: "go-nft").succeeded)
            let (status, document) = try Self.json(lab, ["list"])
            #expect(status == 0)
            let stores = (document["mappings"] as? [[String: Any]] ?? []).map { "\($0["store"] ?? "?") \($0["containerID"] ?? "?")" }
            #expect(Set(stores) == ["iptables-legacy go-legacy", "iptables-nft go-nft"], "\(stores)")
            let (conflictStatus, findings) = try Self.conflicts(lab)
            #expect(conflictStatus == 1)
            #expect(findings.map { $0["kind"] as? String }.contains("split-stores"), "\(findings)")
            let split = findings.first { $0["kind"] as? String == "split-stores" }?["message"] as? String
            #expect(split?.contains("1 CNI-DN- chains in iptables-legacy, 1 in iptables-nft") == true, "\(split ?? "none")")

            try #require(try DirectPortmap(lab: lab, portmap: .go).run("DEL", config("50"), containerID: "go-legacy").succeeded)
            try lab.inNode("iptables-legacy", "-t", "nat", "-F")
            try lab.inNode("iptables-legacy", "-t", "nat", "-X")
            try lab.inNode("iptables-legacy", "-t", "nat", "-N", "KUBE-SERVICES")
            let (kubeStatus, kubeFindings) = try Self.conflicts(lab)
            #expect(kubeStatus == 1)
            let kube = kubeFindings.first { $0["kind"] as? String == "split-stores" }?["message"] as? String
            #expect(kube?.contains("the CNI hostPort chains are in iptables-nft, kube-proxy's chains in iptables-legacy") == true, "\(kubeFindings)")
        }

        /// `/proc/net/ip{,6}_tables_names` of the node: the legacy tables that exist there.
        static func tableNames(_ lab: NetnsLab) throws -> [String] {
            try ["ip", "ip6"].map { try lab.inNode("cat", "/proc/net/\($0)_tables_names").stdout }
        }

        /// Ours (dual stack, one mapping bound to the second node address) and two of the Go
        /// plugin's (IPv4; dual stack with only a bound mapping), on one node: `list` shows each
        /// mapping once with its owner, addresses and chain, in JSON and as a table. Nothing
        /// conflicts: a port bound to an IPv4 hostIP is in the container's IPv6 entry rule too, with
        /// no IPv6 DNAT (the Go plugin's IPv6 chain is then empty), as both plugins write it.
        @Test func listsBothPluginsPodsAndFindsNoConflict() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let ours = try lab.addPod(
                "ours-dual", chain: try lab.chain(Self.dualStack),
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8081, "containerPort": 81, "protocol": "udp"],
                    ["hostPort": 9090, "containerPort": 90, "protocol": "tcp", "hostIP": NetnsLab.secondNodeIPv4],
                ])
            let go = try lab.addPod(
                "go-ipv4", chain: try lab.chain(Self.ipv4, portmap: .go),
                mappings: [
                    ["hostPort": 7070, "containerPort": 70, "protocol": "tcp"],
                    ["hostPort": 7071, "containerPort": 71, "protocol": "udp", "hostIP": NetnsLab.nodeIPv4],
                ])
            let goBound = try lab.addPod(
                "go-bound", chain: try lab.chain(Self.dualStack, portmap: .go),
                mappings: [
                    ["hostPort": 6060, "containerPort": 60, "protocol": "tcp", "hostIP": NetnsLab.secondNodeIPv4]
                ])
            let (status, document) = try Self.json(lab, ["list"])
            #expect(status == 0)
            let mappings = try #require(document["mappings"] as? [[String: Any]], "\(document)")
            let expected = Self.expectedRows(ours).union(Self.expectedRows(go)).union(Self.expectedRows(goBound))
            #expect(expected.count == 8 && expected.contains { $0.family == "ipv6" })
            #expect(mappings.count == expected.count)
            #expect(Set(mappings.map(Self.row)) == expected)

            // Each mapping names the chain its container's entry rule jumps to in that family.
            let saved = ["ipv4": try lab.natTable(), "ipv6": try lab.natTable(v6: true)]
            for mapping in mappings {
                let row = Self.row(mapping)
                let chain = try GCStatusTests.chain(
                    of: try #require(row.containerID), network: try #require(row.network),
                    in: saved[row.family]!)
                #expect(mapping["chain"] as? String == chain, "\(row)")
                #expect(mapping["reachable"] as? Bool == true, "\(row)")
                #expect((mapping["listeners"] as? [Any])?.isEmpty == true, "\(row)")
            }
            let tables = try #require(document["tables"] as? [[String: Any]])
            #expect(
                tables.map { "\($0["store"] ?? "?") \($0["family"] ?? "?") \($0["exists"] ?? "?")" }
                    == [
                        "iptables-legacy ipv4 1", "iptables-legacy ipv6 1", "iptables-nft ipv4 0", "iptables-nft ipv6 0", "nftables ipv4 0",
                        "nftables ipv6 0", "nftables-upstream ipv4 0", "nftables-upstream ipv6 0",
                    ])
            for table in tables where table["store"] as? String == "iptables-legacy" {
                for key in ["exists", "preroutingHook", "outputHook", "masqueradeHook"] {
                    #expect(table[key] as? Bool == true, "\(key): \(table)")
                }
                #expect((table["orphanChains"] as? [Any])?.isEmpty == true, "\(table)")
            }

            // The table: the same rows, containers by the first 12 characters of their IDs.
            #expect([ours, go, goBound].allSatisfy { $0.containerID.count > 12 })
            let text = try Self.hostports(lab, ["list"])
            #expect(text.status == 0)
            // Columns are at least two spaces apart, and no cell holds two spaces in a row.
            let lines = text.stdout.split(separator: "\n").map { line in
                line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            #expect(lines.first == ["PROTO", "HOST IP", "HOST PORT", "POD", "OWNER", "NETWORK", "CONTAINER", "FAMILY", "RULE IN", "LISTENERS"])
            let shown = Set(
                mappings.map { mapping in
                    let row = Self.row(mapping)
                    return [
                        row.proto, row.hostIP ?? "all addresses", String(row.hostPort),
                        row.family == "ipv6" ? "[\(row.podIP)]:\(row.podPort)" : "\(row.podIP):\(row.podPort)", "cni-portmap",
                        row.network ?? "-", String(row.containerID?.prefix(12) ?? "-"), row.family,
                        "iptables-legacy nat \(mapping["chain"] as? String ?? "?")", "-",
                    ]
                })
            #expect(Set(lines.dropFirst()) == shown, "\(text.stdout)")

            let clean = try Self.conflicts(lab)
            #expect(clean.status == 0)
            #expect(clean.findings.isEmpty, "\(clean.findings)")
            let cleanText = try Self.hostports(lab, ["conflicts"])
            #expect(cleanText.status == 0 && cleanText.stdout == "no conflicts among 8 hostPort mappings\n", "\(cleanText.stdout)")
            let otherFamily = try Self.explain(lab, NetnsLab.nodeIPv6, 9090, failsAt: "dnat")
            #expect((otherFamily["verdict"] as? String)?.contains("only on hostIP \(NetnsLab.secondNodeIPv4)") == true, "\(otherFamily)")
        }

        /// One pod claims 8080 on 192.0.2.2 only (the Go plugin), then another on every address
        /// (ours): `wildcard-overlap`. The first entry rule wins, so on 192.0.2.2 the bound pod
        /// answers, as the finding and explain say, and the wildcard pod everywhere else.
        @Test func wildcardAndBoundClaimsOfOnePortOverlap() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let bound = try lab.addPod(
                "bound", chain: try lab.chain(Self.ipv4, portmap: .go),
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": NetnsLab.secondNodeIPv4]
                ])
            let wildcard = try lab.addPod(
                "wild", chain: try lab.chain(Self.ipv4),
                mappings: [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]])
            let (status, findings) = try Self.conflicts(lab)
            #expect(status == 1)
            #expect(findings.map { $0["kind"] as? String } == ["wildcard-overlap"], "\(findings)")
            let finding = try #require(findings.first)
            #expect(finding["family"] as? String == "ipv4")
            let involved = try #require(finding["mappings"] as? [[String: Any]]).map(Self.row)
            #expect(Set(involved) == Self.expectedRows(wildcard).union(Self.expectedRows(bound)))

            // The finding's first mapping is the one that answers on the bound address.
            #expect(involved.first?.containerID == bound.containerID, "\(finding)")
            #expect(try lab.probe("tcp", NetnsLab.secondNodeIPv4, 8080) == "bound from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "wild from \(NetnsLab.clientIPv4)")
            let explanation = try Self.explain(lab, NetnsLab.secondNodeIPv4, 8080, failsAt: nil)
            #expect((explanation["verdict"] as? String)?.contains(String(bound.containerID.prefix(12))) == true, "\(explanation)")
            let dnat = (explanation["steps"] as? [[String: Any]])?.first { $0["step"] as? String == "dnat" }
            #expect(dnat?["status"] as? String == "warn", "the wildcard claim never receives it: \(explanation)")
        }

        /// A process of the node listening on 0.0.0.0:8080, which a pod maps on every address:
        /// `shadowed-listener` naming the process, whose socket `list` shows next to the mapping;
        /// connections to 8080 reach the pod, as the finding says.
        @Test func aProcessOnAMappedPortIsShadowed() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod(
                "pod", chain: try lab.chain(Self.ipv4),
                mappings: [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]])
            let pidFile = lab.dataDir.appendingPathComponent("listener.pid").path
            let listener = try Subprocess.Background([
                "ip", "netns", "exec", lab.node, "python3", "-c",
                """
                import os, socket, time
                sock = socket.socket()
                sock.bind(("0.0.0.0", 8080))
                sock.listen()
                with open("\(pidFile)", "w") as file:
                    file.write(str(os.getpid()))
                print("ready", flush=True)
                time.sleep(60)
                """,
            ])
            defer { listener.stop() }
            let pid = try #require(Int(try String(contentsOfFile: pidFile, encoding: .utf8)))

            let (status, findings) = try Self.conflicts(lab)
            #expect(status == 1)
            #expect(findings.map { $0["kind"] as? String } == ["shadowed-listener"], "\(findings)")
            let finding = try #require(findings.first)
            #expect((finding["message"] as? String)?.contains("python3[\(pid)] (0.0.0.0:8080)") == true, "\(finding)")
            let mapping = try #require((finding["mappings"] as? [[String: Any]])?.first)
            #expect(Self.row(mapping) == Self.expectedRows(pod).first)
            let sockets = try #require(mapping["listeners"] as? [[String: Any]])
            #expect(sockets.count == 1)
            #expect(sockets.first?["address"] as? String == "0.0.0.0" && sockets.first?["port"] as? Int == 8080)
            let processes = sockets.first?["processes"] as? [[String: Any]]
            #expect(
                processes?.map { $0["pid"] as? Int } == [pid] && processes?.first?["command"] as? String == "python3",
                "\(sockets)")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "pod from \(NetnsLab.clientIPv4)")
        }

        /// A pod whose namespace went away without a CNI DEL: its address still routes through the
        /// bridge, so only the scan of the node's namespaces tells it is gone (`pod-gone`), and
        /// explain stops at `pod-route` where a request gets no answer. The scan covers the whole
        /// machine, so this relies on NamespaceTests running one lab at a time: another lab's pod
        /// with the same address (each lab's host-local starts over) would hide the gone one.
        @Test func aPodGoneWithoutDelIsFound() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try lab.addPod("stays", chain: try lab.chain(Self.ipv4), mappings: [["hostPort": 8080, "containerPort": 80, "protocol": "tcp"]])
            let gone = try lab.addPod(
                "gone", chain: try lab.chain(Self.ipv4),
                mappings: [["hostPort": 8081, "containerPort": 81, "protocol": "tcp"]])
            let goneIP = try #require(gone.address(v6: false))
            try lab.abandonPod(gone)
            #expect(try lab.inNode("ip", "route", "get", goneIP).stdout.contains("dev \(lab.bridge(Self.ipv4)) "))

            let (status, findings) = try Self.conflicts(lab)
            #expect(status == 1)
            #expect(findings.map { $0["kind"] as? String } == ["pod-gone"], "\(findings)")
            let involved = try #require(findings.first?["mappings"] as? [[String: Any]]).map(Self.row)
            #expect(involved == Array(Self.expectedRows(gone)))
            #expect((findings.first?["message"] as? String)?.contains(goneIP) == true)

            try Self.explain(lab, NetnsLab.nodeIPv4, 8081, failsAt: "pod-route")
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: nil)
        }

        /// Each step explain can stop at, set up for real, with a request beside it: a mapped port
        /// answers; a port no pod maps stops at `entry-rule`; one bound to the node's other address
        /// at `dnat`; a pod address made unreachable at `pod-route`; 127.0.0.1 answers until
        /// route_localnet is off on the bridge and for `all`, then stops at `localhost`.
        @Test func explainAgreesWithTraffic() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod(
                "x", chain: try lab.chain(Self.ipv4),
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 9090, "containerPort": 90, "protocol": "tcp", "hostIP": NetnsLab.nodeIPv4],
                ])
            let podIP = try #require(pod.address(v6: false))
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: nil)
            try Self.explain(lab, NetnsLab.nodeIPv4, 7777, failsAt: "entry-rule")
            try Self.explain(lab, NetnsLab.nodeIPv4, 9090, failsAt: nil)
            let elsewhere = try Self.explain(lab, NetnsLab.secondNodeIPv4, 9090, failsAt: "dnat")
            #expect((elsewhere["verdict"] as? String)?.contains("only on hostIP \(NetnsLab.nodeIPv4)") == true, "\(elsewhere)")

            try lab.inNode("ip", "route", "add", "unreachable", "\(podIP)/32")
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: "pod-route")
            try lab.inNode("ip", "route", "del", "unreachable", "\(podIP)/32")
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: nil)

            let bridge = lab.bridge(Self.ipv4)
            try Self.explain(lab, "127.0.0.1", 8080, from: lab.node, failsAt: nil)
            for interface in [bridge, "all"] {
                try lab.inNode("sysctl", "-qw", "net.ipv4.conf.\(interface).route_localnet=0")
            }
            let localhost = try Self.explain(lab, "127.0.0.1", 8080, from: lab.node, failsAt: "localhost")
            #expect((localhost["verdict"] as? String)?.contains("net.ipv4.conf.\(bridge).route_localnet") == true, "\(localhost)")
        }

        /// A node that never had a legacy table nor the nftables one: every command reads it
        /// without creating one, and `list` reports every table as missing.
        @Test func readsAFreshNodeWithoutCreatingTables() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            #expect(try Self.tableNames(lab) == ["", ""], "a fresh namespace has no legacy table")
            let (status, document) = try Self.json(lab, ["list"])
            #expect(status == 0)
            #expect((document["mappings"] as? [Any])?.isEmpty == true, "\(document)")
            let tables = try #require(document["tables"] as? [[String: Any]])
            #expect(
                tables.map { "\($0["store"] ?? "?") \($0["family"] ?? "?")" }
                    == [
                        "iptables-legacy ipv4", "iptables-legacy ipv6", "iptables-nft ipv4", "iptables-nft ipv6", "nftables ipv4", "nftables ipv6",
                        "nftables-upstream ipv4", "nftables-upstream ipv6",
                    ])
            #expect(tables.allSatisfy { $0["exists"] as? Bool == false }, "\(tables)")
            let text = try Self.hostports(lab, ["list"])
            #expect(
                text.stdout == """
                    no hostPort mappings
                      iptables-legacy nat (ipv4): does not exist
                      iptables-legacy nat (ipv6): does not exist
                      iptables-nft nat (ipv4): does not exist
                      iptables-nft nat (ipv6): does not exist
                      nftables ip cni_portmaps: does not exist
                      nftables ip6 cni_portmaps: does not exist
                      nftables-upstream ip cni_hostport: does not exist
                      nftables-upstream ip6 cni_hostport: does not exist

                    """)
            #expect(try Self.conflicts(lab).status == 0)
            try Self.explain(lab, NetnsLab.nodeIPv4, 8080, failsAt: "hook")
            try Self.explain(lab, NetnsLab.nodeIPv6, 8080, failsAt: "hook")
            #expect(try Self.tableNames(lab) == ["", ""], "hostports must not instantiate a table")
            #expect(try lab.inNode("nft", "list", "ruleset").stdout == "", "nor an nf_tables one")
        }
    }
}
