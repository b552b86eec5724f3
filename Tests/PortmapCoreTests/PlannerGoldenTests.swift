import Testing

@testable import PortmapCore

/// The planner against the upstream layout, as `iptables-save` text.
struct PlannerGoldenTests {
    static let containerID = ChainNameTests.longContainerID
    static let chain = "CNI-DN-67e92b96e692a494b6b85"
    static let comment = #"-m comment --comment "dnat name: \"test\" id: \"\#(containerID)\"""#

    /// Upstream's 8-mapping scenario (portmap_iptables_test.go "generates a correct standard
    /// container chain"), with real conditions in place of its placeholder tokens "a", "b".
    static func scenario(_ extra: String = "") -> String {
        """
        {"cniVersion": "1.0.0", "name": "test", "type": "portmap", \(extra)
         "runtimeConfig": {"portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 8081, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 8080, "containerPort": 81, "protocol": "udp"},
            {"hostPort": 8082, "containerPort": 82, "protocol": "udp"},
            {"hostPort": 8083, "containerPort": 83, "protocol": "tcp", "hostIP": "192.168.0.2"},
            {"hostPort": 8084, "containerPort": 84, "protocol": "tcp", "hostIP": "0.0.0.0"},
            {"hostPort": 8085, "containerPort": 85, "protocol": "tcp", "hostIP": "2001:db8:a::1"},
            {"hostPort": 8086, "containerPort": 86, "protocol": "tcp", "hostIP": "::"}]},
         "conditionsV4": ["-i", "eth0"], "conditionsV6": ["!", "-s", "2001:db8:ffff::/48"]}
        """
    }

    static func plan(_ json: String, _ address: String) throws -> IPTablesFamilyPlan {
        IPTablesPlanner.plan(try decodeConfig(json), containerID: containerID, container: IPNetwork(address)!)
    }

    static let shared = [
        "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
        "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
        #"-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ"#,
    ]

    @Test func ipv4WithSNAT() throws {
        let c = Self.chain
        #expect(
            saveLines(try Self.plan(Self.scenario(), "10.0.0.2/24")) == Self.shared + [
                "-A CNI-DN-67e92b96e692a494b6b85 -s 10.0.0.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -s 10.0.0.0/24 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -s 10.0.0.0/24 -p udp -m udp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p udp -m udp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8080 -j DNAT --to-destination 10.0.0.2:81",
                "-A \(c) -s 10.0.0.0/24 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8082 -j DNAT --to-destination 10.0.0.2:82",
                "-A \(c) -s 10.0.0.0/24 -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j DNAT --to-destination 10.0.0.2:83",
                "-A \(c) -s 10.0.0.0/24 -p tcp -m tcp --dport 8084 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8084 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8084 -j DNAT --to-destination 10.0.0.2:84",
                "-A CNI-HOSTPORT-DNAT -i eth0 -p tcp \(Self.comment) -m multiport --dports 8080,8081,8083,8084,8085,8086 -j \(c)",
                "-A CNI-HOSTPORT-DNAT -i eth0 -p udp \(Self.comment) -m multiport --dports 8080,8082 -j \(c)",
                "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
                #"-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000"#,
            ])
    }

    @Test func ipv6WithSNAT() throws {
        let c = Self.chain
        #expect(
            saveLines(try Self.plan(Self.scenario(), "2001:db8::2/64")) == Self.shared + [
                "-A \(c) -s 2001:db8::/64 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8080 -j DNAT --to-destination [2001:db8::2]:80",
                "-A \(c) -s 2001:db8::/64 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8081 -j DNAT --to-destination [2001:db8::2]:80",
                "-A \(c) -s 2001:db8::/64 -p udp -m udp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8080 -j DNAT --to-destination [2001:db8::2]:81",
                "-A \(c) -s 2001:db8::/64 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8082 -j DNAT --to-destination [2001:db8::2]:82",
                "-A \(c) -s 2001:db8::/64 -d 2001:db8:a::1/128 -p tcp -m tcp --dport 8085 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -d 2001:db8:a::1/128 -p tcp -m tcp --dport 8085 -j DNAT --to-destination [2001:db8::2]:85",
                "-A \(c) -s 2001:db8::/64 -p tcp -m tcp --dport 8086 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8086 -j DNAT --to-destination [2001:db8::2]:86",
                "-A CNI-HOSTPORT-DNAT ! -s 2001:db8:ffff::/48 -p tcp \(Self.comment) -m multiport --dports 8080,8081,8083,8084,8085,8086 -j \(c)",
                "-A CNI-HOSTPORT-DNAT ! -s 2001:db8:ffff::/48 -p udp \(Self.comment) -m multiport --dports 8080,8082 -j \(c)",
                "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
                #"-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000"#,
            ])
    }

    @Test func withoutSNATOnlyDNATRulesAndNoMarkChains() throws {
        let c = Self.chain
        let plan = try Self.plan(Self.scenario(#""snat": false,"#), "10.0.0.2/24")
        #expect(
            saveLines(plan) == [
                "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                "-A \(c) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -p udp -m udp --dport 8080 -j DNAT --to-destination 10.0.0.2:81",
                "-A \(c) -p udp -m udp --dport 8082 -j DNAT --to-destination 10.0.0.2:82",
                "-A \(c) -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j DNAT --to-destination 10.0.0.2:83",
                "-A \(c) -p tcp -m tcp --dport 8084 -j DNAT --to-destination 10.0.0.2:84",
                "-A CNI-HOSTPORT-DNAT -i eth0 -p tcp \(Self.comment) -m multiport --dports 8080,8081,8083,8084,8085,8086 -j \(c)",
                "-A CNI-HOSTPORT-DNAT -i eth0 -p udp \(Self.comment) -m multiport --dports 8080,8082 -j \(c)",
            ])
    }

    /// masqAll marks hairpin traffic from every source (upstream writes `-s 0.0.0.0/0`, stored as
    /// no source match) and needs no separate localhost rule.
    @Test func masqAllMarksEverySource() throws {
        let plan = try Self.plan(Self.scenario(#""masqAll": true,"#), "10.0.0.2/24")
        let container = try #require(plan.containerChain)
        #expect(
            container.rules.prefix(2).map { $0.saveLine(chain: "X") } == [
                "-A X -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A X -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
            ])
        #expect(container.rules.count == 12)
    }

    @Test func markMasqBit5() throws {
        let lines = saveLines(try Self.plan(Self.scenario(#""markMasqBit": 5,"#), "10.0.0.2/24"))
        #expect(lines.contains("-A CNI-HOSTPORT-MASQ -m mark --mark 0x20/0x20 -j MASQUERADE"))
        #expect(lines.contains(#"-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x20/0x20"#))
    }

    /// With an external mark chain the rules jump there and neither SETMARK nor MASQ is created
    /// (upstream "generates a correct chain with external mark").
    @Test func externalSetMarkChain() throws {
        let json = """
            {"cniVersion": "0.4.0", "name": "test", "externalSetMarkChain": "PLZ-SET-MARK",
             "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}}
            """
        let plan = try Self.plan(json, "10.0.0.2/24")
        #expect(plan.requiredChains == ["PLZ-SET-MARK"])
        #expect(plan.chains.map(\.name) == ["CNI-HOSTPORT-DNAT", Self.chain])
        #expect(
            plan.containerChain?.rules.map { $0.saveLine(chain: "X") } == [
                "-A X -s 10.0.0.0/24 -p tcp -m tcp --dport 8080 -j PLZ-SET-MARK",
                "-A X -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j PLZ-SET-MARK",
                "-A X -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
            ])
    }

    /// What Debian's Go portmap 1.1.1 wrote through iptables-legacy on this machine for network
    /// "test", container "abc123" (`iptables-legacy-save -t nat`, chains in save order).
    @Test func matchesTheGoPluginsKernelOutput() throws {
        let json = """
            {"cniVersion":"1.0.0","name":"test","type":"portmap","snat":true,
             "runtimeConfig":{"portMappings":[
               {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
               {"hostPort": 8081, "containerPort": 80, "protocol": "tcp"},
               {"hostPort": 8080, "containerPort": 81, "protocol": "udp"},
               {"hostPort": 8082, "containerPort": 82, "protocol": "udp"},
               {"hostPort": 8083, "containerPort": 83, "protocol": "tcp", "hostIP": "192.168.0.2"},
               {"hostPort": 8084, "containerPort": 84, "protocol": "tcp", "hostIP": "0.0.0.0"},
               {"hostPort": 8085, "containerPort": 85, "protocol": "tcp", "hostIP": "2001:db8:a::1"},
               {"hostPort": 8086, "containerPort": 86, "protocol": "tcp", "hostIP": "::"},
               {"hostPort": 8087, "containerPort": 87, "protocol": "sctp"}]},
             "conditionsV4":["-s","192.0.2.0/24","!","-i","eth9"]}
            """
        let plan = IPTablesPlanner.plan(try decodeConfig(json), containerID: "abc123", container: IPNetwork("10.0.0.2/24")!)
        let c = "CNI-DN-0c4de534d24965339ca8c"
        let tagged = #"-m comment --comment "dnat name: \"test\" id: \"abc123\"""#
        #expect(
            saveLines(plan) == Self.shared + [
                "-A \(c) -s 10.0.0.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -s 10.0.0.0/24 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.0.0.2:80",
                "-A \(c) -s 10.0.0.0/24 -p udp -m udp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p udp -m udp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8080 -j DNAT --to-destination 10.0.0.2:81",
                "-A \(c) -s 10.0.0.0/24 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p udp -m udp --dport 8082 -j DNAT --to-destination 10.0.0.2:82",
                "-A \(c) -s 10.0.0.0/24 -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j DNAT --to-destination 10.0.0.2:83",
                "-A \(c) -s 10.0.0.0/24 -p tcp -m tcp --dport 8084 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p tcp -m tcp --dport 8084 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p tcp -m tcp --dport 8084 -j DNAT --to-destination 10.0.0.2:84",
                "-A \(c) -s 10.0.0.0/24 -p sctp -m sctp --dport 8087 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -s 127.0.0.1/32 -p sctp -m sctp --dport 8087 -j CNI-HOSTPORT-SETMARK",
                "-A \(c) -p sctp -m sctp --dport 8087 -j DNAT --to-destination 10.0.0.2:87",
                "-A CNI-HOSTPORT-DNAT -s 192.0.2.0/24 ! -i eth9 -p sctp \(tagged) -m multiport --dports 8087 -j \(c)",
                "-A CNI-HOSTPORT-DNAT -s 192.0.2.0/24 ! -i eth9 -p tcp \(tagged) -m multiport --dports 8080,8081,8083,8084,8085,8086 -j \(c)",
                "-A CNI-HOSTPORT-DNAT -s 192.0.2.0/24 ! -i eth9 -p udp \(tagged) -m multiport --dports 8080,8082 -j \(c)",
                "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
                #"-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000"#,
            ])
    }

    /// A `-p` condition keeps the entry rules of the protocols it admits, unchanged, and leaves out
    /// the others: iptables would refuse a second `-p`, and their conjunction matches nothing.
    @Test(arguments: [
        (#"["-p", "udp"]"#, [TransportProtocol.udp]),
        (#"["!", "-p", "udp"]"#, [.sctp, .tcp]),
        (#"["-p", "all"]"#, [.sctp, .tcp, .udp]),
    ])
    func protocolConditionSelectsEntryRules(condition: String, expected: [TransportProtocol]) throws {
        let json = """
            {"cniVersion": "1.0.0", "name": "n", "conditionsV4": \(condition), "runtimeConfig": {"portMappings": [
              {"hostPort": 80, "containerPort": 80, "protocol": "tcp"}, {"hostPort": 53, "containerPort": 53, "protocol": "udp"},
              {"hostPort": 99, "containerPort": 99, "protocol": "sctp"}]}}
            """
        let chain = try #require(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork("10.0.0.2/24")!).containerChain)
        #expect(chain.entryRules.map(\.protocolNumber) == expected.map { Inverted(UInt16($0.number)) })
        #expect(chain.entryRules.allSatisfy { $0.source == nil && $0.inInterface == nil })
        #expect(chain.rules.count == 9, "the container chain itself does not depend on conditions")
    }

    /// multiport takes 15 ports; the 16th starts a second entry rule, as upstream splits them.
    @Test func entryRulesSplitAtFifteenPorts() throws {
        let mappings = (1...16).map { #"{"hostPort": \#(9000 + $0), "containerPort": 80}"# }.joined(separator: ",")
        let json = #"{"cniVersion": "1.0.0", "name": "n", "runtimeConfig": {"portMappings": [\#(mappings)]}}"#
        let chain = try #require(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork("10.0.0.2/24")!).containerChain)
        #expect(
            chain.entryRules.map(\.matches.last) == [
                .multiportDestination((9001...9015).map { UInt16($0) }), .multiportDestination([9016]),
            ])
    }

    /// Go groups entry rules by the protocol's text and sorts the texts bytewise, so "TCP" and
    /// "tcp" get a rule each (issue 13, finding 1); the kernel stores both as protocol 6.
    @Test func entryRulesFollowTheProtocolSpelling() throws {
        let json = """
            {"cniVersion": "1.0.0", "name": "n", "runtimeConfig": {"portMappings": [
              {"hostPort": 8082, "containerPort": 80, "protocol": "tcp"}, {"hostPort": 8081, "containerPort": 80, "protocol": "TCP"},
              {"hostPort": 53, "containerPort": 53, "protocol": "Udp"}, {"hostPort": 8083, "containerPort": 80, "protocol": "tcp"},
              {"hostPort": 8084, "containerPort": 80}]}}
            """
        let chain = try #require(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork("10.0.0.2/24")!).containerChain)
        #expect(
            chain.entryRules.map(\.matches.last) == [
                .multiportDestination([8081]), .multiportDestination([53]), .multiportDestination([8082, 8083, 8084]),
            ])
        #expect(chain.entryRules.map(\.protocolNumber) == [6, 17, 6].map { Inverted(UInt16($0)) })
    }

    /// Two spellings whose port lists are the same make identical entry rules; Go's InsertUnique
    /// writes the first only (the random differential run found it: both mappings are IPv6-bound,
    /// so in IPv4 only their entry rules remain).
    @Test func identicalEntryRulesAreWrittenOnce() throws {
        let json = """
            {"cniVersion": "1.0.0", "name": "n", "runtimeConfig": {"portMappings": [
              {"hostPort": 8082, "containerPort": 53, "protocol": "Tcp", "hostIP": "::"},
              {"hostPort": 8082, "containerPort": 81, "protocol": "tcp", "hostIP": "2001:db8:1::1"},
              {"hostPort": 8080, "containerPort": 53, "protocol": "udp"}]}}
            """
        let chain = try #require(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork("10.0.0.2/24")!).containerChain)
        #expect(chain.entryRules.map(\.matches.last) == [.multiportDestination([8082]), .multiportDestination([8080])])
        #expect(chain.entryRules.map(\.protocolNumber) == [6, 17].map { Inverted(UInt16($0)) })
    }

    /// A hostIP-bound mapping can never produce a DNAT without its `-d`: the famous 0.0.0.0 bug.
    @Test(arguments: ["192.0.2.1", "2001:db8:1::1"])
    func everyRuleOfABoundMappingCarriesItsAddress(hostIP: String) throws {
        let json = #"{"cniVersion": "1.0.0", "name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80, "hostIP": "\#(hostIP)"}]}}"#
        let container = hostIP.contains(":") ? "2001:db8:2::5/64" : "10.0.0.5/24"
        let chain = try #require(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork(container)!).containerChain)
        #expect(!chain.rules.isEmpty)
        #expect(chain.rules.allSatisfy { $0.destination == Inverted(IPNetwork(host: IPAddress(hostIP)!)) })
        let other = hostIP.contains(":") ? "10.0.0.5/24" : "2001:db8:2::5/64"
        #expect(IPTablesPlanner.plan(try decodeConfig(json), containerID: "c", container: IPNetwork(other)!).containerChain?.rules == [])
    }

    /// The localnet guard in the raw table: IPv4 only, on unless the config turns it off.
    @Test(arguments: [("10.0.0.2/24", "", true), ("10.0.0.2/24", #""localnetGuard": false,"#, false), ("2001:db8::2/64", "", false)])
    func localnetGuardIsPlannedForIPv4(container: String, extra: String, expected: Bool) throws {
        let plan = try Self.plan(Self.scenario(extra), container)
        #expect(
            saveLines(plan.rawChains)
                == (expected
                    ? [
                        #"-A PREROUTING -m comment --comment "CNI portfwd localnet guard" -j CNI-HOSTPORT-GUARD"#,
                        #"-A CNI-HOSTPORT-GUARD -d 127.0.0.0/8 ! -i lo -m comment --comment "CNI portfwd localnet guard" -j DROP"#,
                    ] : []))
    }
}
