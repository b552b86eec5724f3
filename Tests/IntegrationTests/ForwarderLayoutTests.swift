import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// `hostports` over the nat layouts other forwarders write (CRI-O, netavark, Docker,
    /// kube-proxy: `Fixtures/forwarders`, each file saying where its layout comes from), loaded
    /// into a scratch namespace by the real iptables-restore of each store: every claim a file
    /// lists is one row naming its owner and store, and nothing else is listed; a hostPort on a
    /// NodePort is found, with the winner PREROUTING's order gives; `metrics` passes
    /// `promtool check metrics`; and reading changes nothing.
    @Suite struct ForwarderLayoutTests {
        static let directory = Prerequisites.fixtures.appendingPathComponent("forwarders")
        /// Loaded in this order, each appending its PREROUTING jumps.
        static let owners = ["cri-o", "kube-proxy", "docker", "netavark"]

        /// One `# claim:` line of a fixture, as `list --json` must show it.
        struct Claim: Hashable, CustomStringConvertible {
            var owner: String
            var proto: String
            var address: String?
            var port: Int
            var target: String
            var name: String?
            var kind: String
            var family: String
            var store: String

            var description: String { "\(owner) \(kind) \(proto) \(address ?? "*"):\(port) -> \(target) (\(name ?? "-"), \(family), \(store))" }
        }

        static func claims(store: String) throws -> [Claim] {
            try owners.flatMap { owner in
                try ["ipv4", "ipv6"].flatMap { family -> [Claim] in
                    let file = directory.appendingPathComponent("\(owner)-\(family).rules")
                    guard FileManager.default.fileExists(atPath: file.path) else { return [] }
                    return try claims(in: file, store: store, family: family)
                }
            }
        }

        /// The `# claim:` lines of one fixture; the family is the file's, or the target's.
        static func claims(in file: URL, store: String, family: String? = nil) throws -> [Claim] {
            try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("# claim: ") }.map { line in
                var fields: [String: String] = [:]
                for pair in line.dropFirst("# claim: ".count).split(separator: " ") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    fields[String(parts[0])] = String(parts[1])
                }
                let address = fields["hostIP"] == "*" ? nil : fields["hostIP"]
                let target = fields["target"]!
                let v6 = target.hasPrefix("[") || address?.contains(":") == true
                return Claim(
                    owner: fields["owner"]!, proto: fields["proto"]!, address: address, port: Int(fields["port"]!)!, target: target,
                    name: fields["name"] == "-" ? nil : fields["name"], kind: fields["kind"]!, family: family ?? (v6 ? "ipv6" : "ipv4"),
                    store: store)
            }
        }

        /// Loads every fixture into `namespace` with `store`'s restore commands (appending).
        static func load(_ namespaces: TestNamespaces, _ namespace: String, store: String, extra: String = "") throws {
            for owner in owners {
                for (family, tool) in [("ipv4", "iptables"), ("ipv6", "ip6tables")] {
                    let file = directory.appendingPathComponent("\(owner)-\(family).rules")
                    guard FileManager.default.fileExists(atPath: file.path) else { continue }
                    try namespaces.exec(namespace, ["\(tool)-\(store)-restore", "--noflush"], stdin: try String(contentsOf: file, encoding: .utf8))
                }
            }
            if !extra.isEmpty { try namespaces.exec(namespace, ["iptables-\(store)-restore", "--noflush"], stdin: extra) }
        }

        static func rows(_ document: [String: Any], store: String) -> [Claim] {
            let mappings = (document["mappings"] as? [[String: Any]] ?? []).map { mapping in
                let pod = mapping["podIP"] as? String ?? "?"
                let port = mapping["podPort"] as? Int ?? -1
                return Claim(
                    owner: mapping["owner"] as? String ?? "?", proto: mapping["protocol"] as? String ?? "?",
                    address: mapping["hostIP"] as? String, port: mapping["hostPort"] as? Int ?? -1,
                    target: pod.contains(":") ? "[\(pod)]:\(port)" : "\(pod):\(port)",
                    name: mapping["workload"] as? String ?? mapping["containerID"] as? String, kind: "host-port",
                    family: mapping["family"] as? String ?? "?", store: mapping["store"] as? String ?? "?")
            }
            let services = (document["servicePorts"] as? [[String: Any]] ?? []).map { claim in
                Claim(
                    owner: claim["owner"] as? String ?? "?", proto: claim["protocol"] as? String ?? "?",
                    address: claim["address"] as? String, port: claim["port"] as? Int ?? -1, target: claim["service"] as? String ?? "?",
                    name: nil, kind: claim["kind"] as? String ?? "?", family: claim["family"] as? String ?? "?",
                    store: claim["store"] as? String ?? "?")
            }
            return mappings + services
        }

        /// The tables of both families in `store`, without counters: what reading must not change.
        static func saved(_ namespaces: TestNamespaces, _ namespace: String, store: String) throws -> String {
            try ["iptables", "ip6tables"].map { tool in
                try namespaces.exec(namespace, ["\(tool)-\(store)-save", "-t", "nat"]).split(separator: "\n")
                    .filter { !$0.hasPrefix("#") }.map { $0.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "", options: .regularExpression) }
                    .joined(separator: "\n")
            }.joined(separator: "\n")
        }

        static func json(_ namespaces: TestNamespaces, _ namespace: String, _ arguments: [String]) throws -> [String: Any] {
            let result = try Subprocess.run(["ip", "netns", "exec", namespace, Prerequisites.hostports.path] + arguments + ["--json"])
            return try #require(
                try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        }

        @Test(arguments: ["legacy", "nft"])
        func everyOwnerIsListedFromTheKernel(store: String) throws {
            let namespaces = TestNamespaces(prefix: "fwd")
            defer { namespaces.deleteAll() }
            let node = try namespaces.add("node")
            try namespaces.exec(node, ["ip", "link", "set", "lo", "up"])
            try Self.load(namespaces, node, store: store)
            let storeName = "iptables-\(store)"
            let expected = try Self.claims(store: storeName)
            #expect(expected.count > 25, "the fixtures list their claims")

            let before = try Self.saved(namespaces, node, store: store)
            let listed = Self.rows(try Self.json(namespaces, node, ["list"]), store: storeName)
            #expect(Set(listed) == Set(expected), "missing: \(Set(expected).subtracting(listed)); extra: \(Set(listed).subtracting(expected))")
            #expect(listed.count == expected.count, "a claim listed twice")
            #expect(try Self.saved(namespaces, node, store: store) == before, "reading changed the \(storeName) tables")
        }

        /// A CRI-O hostPort on kube-proxy's NodePort tcp/30080: CRI-O's fixture is loaded first,
        /// so PREROUTING jumps to KUBE-HOSTPORTS before KUBE-SERVICES and the hostPort answers;
        /// with kube-proxy's jump moved to the front, as kube-proxy itself inserts it, the Service does.
        @Test(arguments: ["legacy", "nft"])
        func aHostPortOnANodePortIsAConflict(store: String) throws {
            let namespaces = TestNamespaces(prefix: "fwd")
            defer { namespaces.deleteAll() }
            let node = try namespaces.add("node")
            let clash = """
                *nat
                :KUBE-HP-CLASHCLASHCLASH00 - [0:0]
                -A KUBE-HOSTPORTS -m comment --comment "clash_ns1 hostport 30080" -p tcp -m tcp --dport 30080 -j KUBE-HP-CLASHCLASHCLASH00
                -A KUBE-HP-CLASHCLASHCLASH00 -m comment --comment "clash_ns1 hostport 30080" -p tcp -m tcp -j DNAT --to-destination 10.85.0.9:8080
                COMMIT

                """
            try Self.load(namespaces, node, store: store, extra: clash)
            func overlaps() throws -> [String] {
                let conflicts = try Self.json(namespaces, node, ["conflicts"])["conflicts"] as? [[String: Any]] ?? []
                return conflicts.filter { $0["kind"] as? String == "service-port-overlap" }.compactMap { $0["message"] as? String }
            }
            let first = try overlaps()
            #expect(first.count == 1, "\(first)")
            #expect(
                first.first?.hasPrefix("tcp/30080 is kube-proxy's node-port web/frontend:http on every node address and cri-o pod clash_ns1's hostPort") == true,
                "\(first)")
            #expect(first.first?.hasSuffix("the hostPort answers (PREROUTING jumps to its chain first)") == true, "\(first)")

            try namespaces.exec(
                node, ["iptables-\(store)", "-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"])
            try namespaces.exec(
                node, ["iptables-\(store)", "-t", "nat", "-I", "PREROUTING", "1", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"])
            #expect(try overlaps().first?.hasSuffix("the Service answers (PREROUTING jumps to KUBE-SERVICES first)") == true)
        }

        static let nftDirectory = Prerequisites.fixtures.appendingPathComponent("forwarders-nft")

        /// The nftables layouts (kube-proxy's nftables mode, CRI-O's and netavark's nftables
        /// drivers: `Fixtures/forwarders-nft`), loaded together with nft: every claim listed once,
        /// nothing else; kube-proxy's external and load-balancer IPs look alike in its maps, so
        /// both are `external-ip`.
        @Test func everyOwnerIsListedFromNFTables() throws {
            let namespaces = TestNamespaces(prefix: "fwd")
            defer { namespaces.deleteAll() }
            let node = try namespaces.add("node")
            var expected: [Claim] = []
            for owner in ["cri-o", "kube-proxy", "netavark"] {
                let file = Self.nftDirectory.appendingPathComponent("\(owner).nft")
                try namespaces.exec(node, ["nft", "-f", file.path])
                expected += try Self.claims(in: file, store: "nftables").map { claim in
                    var claim = claim
                    if claim.kind == "load-balancer-ip" { claim.kind = "external-ip" }
                    return claim
                }
            }
            #expect(expected.count > 20, "the fixtures list their claims")
            let before = try namespaces.exec(node, ["nft", "list", "ruleset"])
            let listed = Self.rows(try Self.json(namespaces, node, ["list"]), store: "nftables")
            #expect(Set(listed) == Set(expected), "missing: \(Set(expected).subtracting(listed)); extra: \(Set(listed).subtracting(expected))")
            #expect(listed.count == expected.count, "a claim listed twice")
            #expect(try namespaces.exec(node, ["nft", "list", "ruleset"]) == before, "reading changed the ruleset")
        }

        /// `metrics` over every owner is valid exposition text (promtool, from Debian's prometheus
        /// package) and counts each owner's claims.
        @Test func metricsPassPromtool() throws {
            let namespaces = TestNamespaces(prefix: "fwd")
            defer { namespaces.deleteAll() }
            let node = try namespaces.add("node")
            try Self.load(namespaces, node, store: "nft")
            let text = try namespaces.exec(node, [Prerequisites.hostports.path, "metrics"])
            let check = try Subprocess.run(["promtool", "check", "metrics"], stdin: Array(text.utf8))
            #expect(check.status == 0, "promtool: \(check.stdout)\(check.stderr)\n\(text)")
            let lines = Set(text.split(separator: "\n").map(String.init))
            #expect(lines.contains("hostports_read_success 1"))
            let claims = try Self.claims(store: "iptables-nft")
            for owner in ["cri-o", "netavark", "docker"] {
                for family in ["ipv4", "ipv6"] {
                    let count = claims.count { $0.owner == owner && $0.family == family }
                    guard count > 0 else { continue }
                    #expect(lines.contains("hostports_mappings{owner=\"\(owner)\",store=\"iptables-nft\",family=\"\(family)\"} \(count)"), "\(owner) \(family): \(text)")
                }
            }
            let nodePorts = claims.count { $0.kind == "node-port" && $0.family == "ipv4" }
            #expect(lines.contains("hostports_service_ports{kind=\"node-port\",store=\"iptables-nft\",family=\"ipv4\"} \(nodePorts)"), "\(text)")
        }
    }
}
