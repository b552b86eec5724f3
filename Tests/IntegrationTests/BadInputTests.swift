import Foundation
import Testing

extension NamespaceTests {
    /// Malformed configs and environments: each is answered by its CNI error code and leaves both nat
    /// tables byte for byte as they were (a node that already carries a container's rules).
    @Suite
    struct BadInputTests {
        struct Case: Sendable, CustomTestStringConvertible {
            let name: String
            let command: String?
            let env: [String: String?]
            let stdin: [UInt8]
            let code: Int
            var testDescription: String { "\(name) → \(code)" }

            init(_ name: String, command: String? = "ADD", env: [String: String?] = [:], stdin: String, code: Int) {
                self.init(name, command: command, env: env, bytes: Array(stdin.utf8), code: code)
            }

            init(_ name: String, command: String? = "ADD", env: [String: String?] = [:], bytes: [UInt8], code: Int) {
                self.name = name
                self.command = command
                self.env = env
                self.stdin = bytes
                self.code = code
            }
        }

        static func config(
            _ mappings: String = #"[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]"#,
            version: String = "1.0.0", extra: String = "", prevResult: Bool = true
        ) -> String {
            let prev =
                prevResult
                ? #", "prevResult": {"cniVersion": "\#(version)", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/pod"}], "ips": [{"address": "10.88.0.9/24", "interface": 0}, {"address": "2001:db8:89::9/64", "interface": 0}]}"#
                : ""
            return #"{"cniVersion": "\#(version)", "name": "bad-net", "type": "portmap"\#(extra), "runtimeConfig": {"portMappings": \#(mappings)}\#(prev)}"#
        }

        static let cases: [Case] = [
            Case("truncated JSON", stdin: String(config().dropLast(30)), code: 6),
            Case("not JSON", stdin: "portmap please", code: 6),
            Case("non-UTF-8 bytes", bytes: Array(#"{"cniVersion": "1.0.0", "name": "bad"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), code: 6),
            Case("NUL byte", bytes: Array(#"{"cniVersion": "1.0.0", "name": "b"#.utf8) + [0] + Array(#"ad"}"#.utf8), code: 6),
            Case("hostPort as a string", stdin: config(#"[{"hostPort": "80", "containerPort": 80}]"#), code: 6),
            Case("snat as a string", stdin: config(extra: #", "snat": "yes""#), code: 6),
            Case("portMappings an object", stdin: config(#"{"hostPort": 80}"#), code: 6),
            Case("unknown cniVersion", stdin: config(version: "9.9.9"), code: 1),
            Case("missing CNI_CONTAINERID", env: ["CNI_CONTAINERID": nil], stdin: config(), code: 4),
            Case("missing CNI_NETNS", env: ["CNI_NETNS": nil], stdin: config(), code: 4),
            Case("missing CNI_IFNAME", env: ["CNI_IFNAME": nil], stdin: config(), code: 4),
            Case("missing CNI_PATH", env: ["CNI_PATH": nil], stdin: config(), code: 4),
            Case("bad container id", env: ["CNI_CONTAINERID": "bad id!"], stdin: config(), code: 4),
            Case("container id with a leading dash", env: ["CNI_CONTAINERID": "-leading"], stdin: config(), code: 4),
            Case("unknown CNI_COMMAND", command: "FROB", stdin: config(), code: 4),
            Case("hostPort 0", stdin: config(#"[{"hostPort": 0, "containerPort": 80}]"#), code: 7),
            Case("hostPort 65536", stdin: config(#"[{"hostPort": 65536, "containerPort": 80}]"#), code: 7),
            Case("containerPort 0", stdin: config(#"[{"hostPort": 80, "containerPort": 0}]"#), code: 7),
            Case("protocol icmp", stdin: config(#"[{"hostPort": 80, "containerPort": 80, "protocol": "icmp"}]"#), code: 7),
            Case("hostIP 1.2.3", stdin: config(#"[{"hostPort": 80, "containerPort": 80, "hostIP": "1.2.3"}]"#), code: 7),
            Case("duplicate claim", stdin: config(#"[{"hostPort": 80, "containerPort": 80}, {"hostPort": 80, "containerPort": 81}]"#), code: 7),
            Case("missing network name", stdin: #"{"cniVersion": "1.0.0", "type": "portmap"}"#, code: 7),
            Case("ADD without prevResult", stdin: config(prevResult: false), code: 7),
            Case("unsupported condition", stdin: config(extra: #", "conditionsV4": ["-m", "foo"]"#), code: 7),
            Case("protocol condition icmp", stdin: config(extra: #", "conditionsV6": ["-p", "icmp"]"#), code: 7),
            Case("external mark chain that does not exist", stdin: config(extra: #", "externalSetMarkChain": "NO-SUCH-CHAIN""#), code: 7),
            Case("nftables backend with an iptables option", stdin: config(extra: #", "backend": "nftables", "conditionsV4": ["-i", "eth0"]"#), code: 7),
            Case("unknown backend", stdin: config(extra: #", "backend": "bogus""#), code: 7),
        ]

        @Test(arguments: cases)
        func answersWithItsCodeAndChangesNothing(_ testCase: Case) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let existing = DirectPortmap.config(
                mappings: [["hostPort": 7070, "containerPort": 70, "protocol": "tcp"]],
                addresses: ["10.88.0.3/24", "2001:db8:89::3/64"])
            try #require(try plugin.run("ADD", existing, containerID: "existing").succeeded)
            let before = (try lab.natTable(), try lab.natTable(v6: true))

            let result = try plugin.run(testCase.command, stdin: Data(testCase.stdin), containerID: "ctr-bad", env: testCase.env)
            #expect(result.status != 0)
            let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(error?["code"] as? Int == testCase.code, "\(result.stdout)")
            #expect((error?["msg"] as? String)?.isEmpty == false)
            #expect(try lab.natTable() == before.0)
            #expect(try lab.natTable(v6: true) == before.1)
        }

        /// A mark chain present in one family only: the refusal comes before either family commits,
        /// so the family that has the chain is not left with the container's rules (the guard in raw
        /// included).
        @Test func markChainInOneFamilyOnlyWritesNeitherFamily() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try #require(try lab.inNode("iptables-legacy", "-t", "nat", "-N", "KUBE-MARK-MASQ").status == 0)
            // Reading a table instantiates it; a node's ip6tables nat exists already (kube-proxy).
            try #require(try lab.inNode("ip6tables-legacy", "-t", "nat", "-S").status == 0)
            let before = try lab.rulesets()
            let result = try DirectPortmap(lab: lab, portmap: .ours).run("ADD", stdin: Data(Self.config(extra: #", "externalSetMarkChain": "KUBE-MARK-MASQ""#).utf8))
            let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(error?["code"] as? Int == 7, "\(result.stdout)")
            #expect((error?["msg"] as? String)?.contains("ip6tables nat") == true, "\(result.stdout)")
            let after = try lab.rulesets()
            #expect(after == before, "before:\n\(before)\nafter:\n\(after)")
        }

        /// Run by hand without CNI_COMMAND: the about line on stderr, nothing on stdout, no change.
        @Test func noCommandPrintsAboutAndChangesNothing() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let before = try lab.natTable()
            let result = try DirectPortmap(lab: lab, portmap: .ours).run(nil, stdin: Data(Self.config().utf8))
            #expect(result.status == 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("CNI portmap plugin"))
            #expect(try lab.natTable() == before)
        }
    }
}
