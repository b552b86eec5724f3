import Foundation
import Testing

extension NamespaceTests {
    /// Our plugin against Debian's Go portmap 1.1.1 (run with the legacy iptables): for the same
    /// configs, the nat tables must be identical, and each must DEL the other's containers cleanly.
    @Suite
    struct DifferentialTests {
        struct Scenario: Sendable, CustomTestStringConvertible {
            let name: String
            let mappings: [[String: Int]]
            let hostIPs: [Int: String]
            let protocols: [Int: String]
            let addresses: [String]
            let extra: [String: String]
            /// A chain the scenario's config names as `externalSetMarkChain`, made before the ADDs
            /// (kube-proxy's part on a real node).
            var externalChain: String? = nil
            var testDescription: String { name }

            /// Creates `externalChain` in both nat tables of `lab`, in `store`.
            func prepare(_ lab: NetnsLab, store: NetnsLab.Store = .legacy) throws {
                guard let externalChain else { return }
                for tool in ["iptables", "ip6tables"] {
                    try lab.inNode("\(tool)-\(store.rawValue)", "-t", "nat", "-N", externalChain)
                }
            }

            /// JSON-ready mappings (`hostIPs`/`protocols` keyed by index keep the table Sendable).
            var portMappings: [[String: Any]] {
                mappings.enumerated().map { index, mapping in
                    var entry: [String: Any] = mapping
                    entry["protocol"] = protocols[index] ?? "tcp"
                    if let hostIP = hostIPs[index] { entry["hostIP"] = hostIP }
                    return entry
                }
            }

            var extraConfig: [String: Any] {
                extra.mapValues { value -> Any in
                    if value == "false" { return false }
                    if let number = Int(value) { return number }
                    if value.hasPrefix("[") { return try! JSONSerialization.jsonObject(with: Data(value.utf8)) }
                    return value
                }
            }
        }

        static let scenarios = [
            Scenario(
                name: "IPv4: tcp+udp, hostIP, 0.0.0.0, sctp",
                mappings: [
                    ["hostPort": 8080, "containerPort": 80], ["hostPort": 8081, "containerPort": 81],
                    ["hostPort": 8080, "containerPort": 81], ["hostPort": 5353, "containerPort": 53],
                    ["hostPort": 8443, "containerPort": 443], ["hostPort": 9999, "containerPort": 99],
                    ["hostPort": 7000, "containerPort": 70],
                ],
                hostIPs: [3: "192.0.2.1", 4: "0.0.0.0", 6: "2001:db8:1::1"], protocols: [2: "udp", 3: "udp", 5: "sctp"],
                addresses: ["10.88.0.5/24"], extra: [:]),
            Scenario(
                name: "IPv4: snat off", mappings: [["hostPort": 8080, "containerPort": 80], ["hostPort": 8081, "containerPort": 81]],
                hostIPs: [1: "192.0.2.1"], protocols: [1: "udp"], addresses: ["10.88.0.5/24"], extra: ["snat": "false"]),
            Scenario(
                name: "IPv4: markMasqBit 5", mappings: [["hostPort": 8080, "containerPort": 80]],
                hostIPs: [:], protocols: [:], addresses: ["10.88.0.5/24"], extra: ["markMasqBit": "5"]),
            Scenario(
                name: "IPv4: conditions", mappings: [["hostPort": 8080, "containerPort": 80], ["hostPort": 8081, "containerPort": 81]],
                hostIPs: [:], protocols: [1: "udp"], addresses: ["10.88.0.5/24"],
                extra: ["conditionsV4": #"["-s", "192.0.2.0/24", "!", "-i", "eth9"]"#]),
            Scenario(
                name: "dual stack: externalSetMarkChain",
                mappings: [["hostPort": 8080, "containerPort": 80], ["hostPort": 8081, "containerPort": 81]],
                hostIPs: [0: "192.0.2.1"], protocols: [1: "udp"], addresses: ["10.89.0.7/24", "2001:db8:89::7/64"],
                extra: ["externalSetMarkChain": "KUBE-MARK-MASQ"], externalChain: "KUBE-MARK-MASQ"),
            Scenario(
                name: "dual stack, one mapping per protocol",
                mappings: [["hostPort": 8080, "containerPort": 80], ["hostPort": 8081, "containerPort": 81]],
                hostIPs: [1: "2001:db8:1::1"], protocols: [1: "udp"], addresses: ["10.89.0.7/24", "2001:db8:89::7/64"],
                extra: ["conditionsV6": #"["!", "-s", "2001:db8:ffff::/48"]"#]),
        ]

        /// Two fresh node namespaces, one per plugin.
        static func pair() throws -> (go: DirectPortmap, ours: DirectPortmap) {
            (DirectPortmap(lab: try NetnsLab(), portmap: .go), DirectPortmap(lab: try NetnsLab(), portmap: .ours))
        }

        @Test(arguments: scenarios)
        func sameTablesAsTheGoPlugin(_ scenario: Scenario) throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            try scenario.prepare(go.lab)
            try scenario.prepare(ours.lab)
            let config = DirectPortmap.config(mappings: scenario.portMappings, addresses: scenario.addresses, extra: scenario.extraConfig)
            // Two containers, so the order of their entry rules is compared too.
            for containerID in ["ctr-diff-1", "ctr-diff-2"] {
                let goAdd = try go.run("ADD", config, containerID: containerID)
                let ourAdd = try ours.run("ADD", config, containerID: containerID)
                #expect(goAdd.succeeded, "\(goAdd.stdout)\(goAdd.stderr)")
                #expect(ourAdd.succeeded, "\(ourAdd.stdout)")
            }
            #expect(try ours.lab.natTable() == go.lab.natTable())
            #expect(try ours.lab.natTable(v6: true) == go.lab.natTable(v6: true))
        }

        /// Each plugin's DEL removes the other's container exactly as the other's own DEL would.
        @Test(arguments: scenarios)
        func eachDeletesTheOthersContainer(_ scenario: Scenario) throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            try scenario.prepare(go.lab)
            try scenario.prepare(ours.lab)
            let config = DirectPortmap.config(mappings: scenario.portMappings, addresses: scenario.addresses, extra: scenario.extraConfig)
            for side in [go, ours] {
                try side.run("ADD", config, containerID: "keep")
                try side.run("ADD", config)
            }
            // Ours deletes Go's container; Go deletes ours.
            let ourDel = try DirectPortmap(lab: go.lab, portmap: .ours).run("DEL", config)
            let goDel = try DirectPortmap(lab: ours.lab, portmap: .go).run("DEL", config)
            #expect(ourDel.succeeded, "\(ourDel.stdout)")
            #expect(goDel.succeeded, "\(goDel.stdout)\(goDel.stderr)")
            for v6 in [false, true] {
                #expect(try go.lab.natTable(v6: v6) == ours.lab.natTable(v6: v6))
                #expect(!(try go.lab.natTable(v6: v6)).contains("ctr-diff-1"))
                let hasFamily = scenario.addresses.contains { $0.contains(":") == v6 }
                #expect((try go.lab.natTable(v6: v6)).contains("keep") == hasFamily)
            }
        }

        /// Go's encoding/json matches keys in any letter case: a conflist written with "SNAT",
        /// "MarkMasqBit" or "HostPort" must make the same rules with ours, or an operator switching
        /// binaries would silently lose a setting. The JSON text is rewritten, not the dictionary,
        /// so that the keys reach both plugins as spelled here. Two containers: one with snat on
        /// (the default) and mark bit 5, one with "SNAT": false.
        @Test func keysInAnyCaseMakeTheSameTables() throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            func stdin(snat: Bool?) throws -> Data {
                let config = DirectPortmap.config(
                    mappings: [
                        ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                        ["hostPort": 8081, "containerPort": 81, "protocol": "udp", "hostIP": "192.0.2.1"],
                    ],
                    addresses: ["10.88.0.5/24"], extra: snat.map { ["markMasqBit": 5, "snat": $0] } ?? ["markMasqBit": 5])
                var text = String(decoding: try JSONSerialization.data(withJSONObject: config, options: .sortedKeys), as: UTF8.self)
                for (key, spelling) in [
                    ("snat", "SNAT"), ("markMasqBit", "MarkMasqBit"), ("runtimeConfig", "RuntimeConfig"),
                    ("portMappings", "portmappings"), ("hostPort", "HostPort"), ("containerPort", "CONTAINERPORT"),
                    ("protocol", "Protocol"), ("hostIP", "hostip"), ("ips", "IPs"), ("address", "Address"),
                ]
                where key != "snat" || snat != nil {
                    let quoted = "\"\(key)\":"
                    try #require(text.contains(quoted), "\(key) not in \(text)")
                    text = text.replacingOccurrences(of: quoted, with: "\"\(spelling)\":")
                }
                return Data(text.utf8)
            }
            for (containerID, snat) in [("ctr-case-1", nil), ("ctr-case-2", false)] as [(String, Bool?)] {
                let goAdd = try go.run("ADD", stdin: try stdin(snat: snat), containerID: containerID)
                let ourAdd = try ours.run("ADD", stdin: try stdin(snat: snat), containerID: containerID)
                #expect(goAdd.succeeded, "\(goAdd.stdout)\(goAdd.stderr)")
                #expect(ourAdd.succeeded, "\(ourAdd.stdout)")
            }
            let table = try ours.lab.natTable()
            #expect(table == (try go.lab.natTable()))
            // The settings took: mark bit 5 (0x20), the hostIP, and no masquerade mark for "SNAT": false.
            let lines = table.split(separator: "\n")
            #expect(lines.contains { $0.hasSuffix("-j MARK --set-xmark 0x20/0x20") }, "\(table)")
            #expect(lines.contains { $0.contains("-d 192.0.2.1/32 -p udp -m udp --dport 8081 -j DNAT") }, "\(table)")
            func chain(_ containerID: String) -> Substring? {
                lines.first { $0.hasPrefix("-A CNI-HOSTPORT-DNAT") && $0.contains(containerID) }?.split(separator: " ").last
            }
            let first = try #require(chain("ctr-case-1"))
            let second = try #require(chain("ctr-case-2"))
            #expect(lines.contains { $0.hasPrefix("-A \(first) ") && $0.hasSuffix("-j CNI-HOSTPORT-SETMARK") }, "\(table)")
            #expect(!lines.contains { $0.hasPrefix("-A \(second) ") && $0.hasSuffix("-j CNI-HOSTPORT-SETMARK") }, "\(table)")
        }

        /// A key given twice, decoded into what the first one left as Go's encoding/json does
        /// (issue 13, finding 4): the same tables as Go's, and each DELs the other's pod. Every
        /// mapping ends up with a protocol: Go 1.1.1 fails an ADD without one (`-p ""`).
        @Test(arguments: [
            #""runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp"}]}, "RuntimeConfig": {"portMappings": [{"hostPort": 8080}]}"#,
            #""runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp", "hostIP": "192.0.2.1"}]}, "runtimeConfig": {"PortMappings": [{"hostPort": 9090}, {"hostPort": 9091, "containerPort": 91, "protocol": "tcp"}]}"#,
            #""snat": false, "SNAT": null, "markMasqBit": 5, "markMasqBit": null, "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}"#,
            #""conditionsV4": ["-s", "192.0.2.0/24"], "conditionsv4": ["-d", null], "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}, "runtimeConfig": {"portMappings": [{"protocol": "udp"}]}"#,
        ])
        func repeatedKeysMakeTheSameTables(members: String) throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            let stdin = Data(
                #"""
                {"cniVersion": "1.0.0", "name": "diff-net", "type": "portmap", \#(members),
                 "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/pod"}],
                                "ips": [{"address": "10.88.0.5/24", "interface": 0}]}}
                """#.utf8)
            for side in [go, ours] {
                let add = try side.run("ADD", stdin: stdin)
                #expect(add.succeeded, "\(add.stdout)\(add.stderr)")
            }
            let table = try ours.lab.natTable()
            #expect(table == (try go.lab.natTable()))
            #expect(table.contains("-j DNAT"), "\(table)")
            let ourDel = try DirectPortmap(lab: go.lab, portmap: .ours).run("DEL", stdin: stdin)
            let goDel = try DirectPortmap(lab: ours.lab, portmap: .go).run("DEL", stdin: stdin)
            #expect(ourDel.succeeded && goDel.succeeded, "\(ourDel.stdout)\(goDel.stdout)\(goDel.stderr)")
            #expect(try go.lab.natTable() == ours.lab.natTable())
            #expect(!(try go.lab.natTable()).contains("-j DNAT"))
        }

        /// Protocol spellings and container IDs long enough for the comment to be cut (issue 13,
        /// findings 1 and 3): the same tables as Go's, and our CHECK passes on Go's pod (Go 1.1.1's
        /// own CHECK fails on an IPv4-only pod: it looks for the chain in ip6tables too). 240 bytes
        /// of ID make Go trim the comment, 228 make it 256 bytes (trimmed too), 227 make it 255 (kept).
        /// IPv4 only: Go 1.1.1 drops IPv6 rules that differ only by port (the test below).
        @Test(arguments: [String(repeating: "a", count: 240), String(repeating: "b", count: 228), String(repeating: "c", count: 227), "ctr-short"])
        func spellingsAndLongIDsMatchTheGoPlugin(containerID: String) throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            let config = DirectPortmap.config(
                mappings: [
                    ["hostPort": 8081, "containerPort": 80, "protocol": "TCP"],
                    ["hostPort": 8082, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 5353, "containerPort": 53, "protocol": "Udp"],
                    ["hostPort": 8083, "containerPort": 80, "protocol": "TCP"],
                ],
                addresses: ["10.88.0.5/24"])
            for side in [go, ours] {
                let add = try side.run("ADD", config, containerID: containerID)
                #expect(add.succeeded, "\(add.stdout)\(add.stderr)")
            }
            #expect(try ours.lab.natTable() == go.lab.natTable())
            let ourCheck = try DirectPortmap(lab: go.lab, portmap: .ours).run("CHECK", config, containerID: containerID)
            #expect(ourCheck.succeeded, "\(ourCheck.stdout)")
        }

        /// After switching binaries on a node, our CHECK passes for the Go plugin's pods (which
        /// never had the localnet guard: CHECK looks at the container's rules only).
        @Test func ourCheckPassesOnTheGoPluginsPods() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let config = DirectPortmap.config(
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8081, "containerPort": 81, "protocol": "udp"],
                ],
                addresses: ["10.88.0.5/24"])
            try #require(try DirectPortmap(lab: lab, portmap: .go).run("ADD", config).succeeded)
            #expect(!(try lab.natTable(table: "raw")).contains("CNI-HOSTPORT-GUARD"))
            let check = try DirectPortmap(lab: lab, portmap: .ours).run("CHECK", config)
            #expect(check.succeeded, "\(check.stdout)")
        }

        /// The reference's IPv6 bug: ip6tables-legacy `-C` ignores the tcp match's port, so Go's
        /// "insert unless it exists" skips every IPv6 rule that differs from an earlier one only by
        /// port. Ours writes all of them, and our CHECK reports what Go left out.
        @Test func goDropsIPv6RulesThatDifferOnlyByPort() throws {
            let (go, ours) = try Self.pair()
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            let config = DirectPortmap.config(
                mappings: [
                    ["hostPort": 8080, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8081, "containerPort": 81, "protocol": "tcp"],
                ],
                addresses: ["2001:db8:89::7/64"])
            try go.run("ADD", config)
            try ours.run("ADD", config)
            let goTable = try go.lab.natTable(v6: true)
            let ourTable = try ours.lab.natTable(v6: true)
            #expect(ourTable.contains("--dport 8081 -j DNAT --to-destination [2001:db8:89::7]:81"))
            #expect(!goTable.contains("--dport 8081 -j DNAT"))
            let check = try DirectPortmap(lab: go.lab, portmap: .ours).run("CHECK", config)
            #expect(check.status != 0)
            #expect(check.stdout.contains("rule missing") && check.stdout.contains("--dport 8081"), "\(check.stdout)")
        }
    }
}
