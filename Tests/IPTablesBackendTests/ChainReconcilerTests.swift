import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

/// What ADD, CHECK and DEL change in a table, without root.
struct ChainReconcilerTests {
    static func config(_ mappings: String, extra: String = "") throws -> PortMapConfig {
        let json = #"{"cniVersion": "1.0.0", "name": "net1", \#(extra) "runtimeConfig": {"portMappings": \#(mappings)}}"#
        return try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
    }

    static let web = #"[{"hostPort": 8080, "containerPort": 80}, {"hostPort": 8053, "containerPort": 53, "protocol": "udp", "hostIP": "192.0.2.1"}]"#

    static func plan(_ mappings: String = web, id: String = "c1", address: String = "10.88.0.5/24", extra: String = "") throws -> IPTablesFamilyPlan {
        IPTablesPlanner.plan(try config(mappings, extra: extra), containerID: id, container: IPNetwork(address)!)
    }

    @Test func addBuildsTheUpstreamLayoutInAnEmptyTable() throws {
        let table = InMemoryRuleTable()
        let plan = try Self.plan()
        #expect(try ChainReconciler.apply(plan, to: table))
        let chain = ChainName.dnat(network: "net1", containerID: "c1")
        #expect(
            table.saveLines == [
                "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                #"-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ"#,
                "-A \(chain) -s 10.88.0.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(chain) -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK",
                "-A \(chain) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.5:80",
                "-A \(chain) -s 10.88.0.0/24 -d 192.0.2.1/32 -p udp -m udp --dport 8053 -j CNI-HOSTPORT-SETMARK",
                "-A \(chain) -s 127.0.0.1/32 -d 192.0.2.1/32 -p udp -m udp --dport 8053 -j CNI-HOSTPORT-SETMARK",
                "-A \(chain) -d 192.0.2.1/32 -p udp -m udp --dport 8053 -j DNAT --to-destination 10.88.0.5:53",
                #"-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"net1\" id: \"c1\"" -m multiport --dports 8080 -j \#(chain)"#,
                #"-A CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \"net1\" id: \"c1\"" -m multiport --dports 8053 -j \#(chain)"#,
                "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
                #"-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000"#,
            ])
        #expect(try ChainReconciler.problems(plan, in: table).isEmpty)
    }

    @Test func secondAddChangesNothing() throws {
        let table = InMemoryRuleTable()
        let plan = try Self.plan()
        #expect(try ChainReconciler.apply(plan, to: table))
        let before = (table.saveLines, table.edits)
        #expect(try ChainReconciler.apply(plan, to: table) == false)
        #expect(table.saveLines == before.0)
        #expect(table.edits == before.1)
    }

    /// A re-ADD with other mappings or a new address replaces the container's rules, leaving no stale
    /// DNAT and no second set of entry rules.
    @Test func addReplacesStaleRulesOfTheSameContainer() throws {
        let table = InMemoryRuleTable()
        #expect(try ChainReconciler.apply(try Self.plan(), to: table))
        let replacement = try Self.plan(#"[{"hostPort": 9090, "containerPort": 90}]"#, address: "10.88.0.9/24")
        #expect(try ChainReconciler.apply(replacement, to: table))
        let fresh = InMemoryRuleTable()
        _ = try ChainReconciler.apply(replacement, to: fresh)
        #expect(table.saveLines == fresh.saveLines)
    }

    @Test func foreignRulesSurviveAddAndDelete() throws {
        let table = InMemoryRuleTable()
        _ = try ChainReconciler.apply(try Self.plan(id: "other"), to: table)
        let canary = IPTablesRule(source: Inverted(IPNetwork("203.0.113.77/32")!), matches: [.comment("canary")], target: .verdict("RETURN"))
        for chain in ["PREROUTING", "POSTROUTING", ChainName.topLevelDNAT] {
            try table.append(canary, to: chain)
        }
        let before = table.saveLines
        let plan = try Self.plan()
        #expect(try ChainReconciler.apply(plan, to: table))
        #expect(try ChainReconciler.remove(IPTablesPlanner.teardown(network: "net1", containerID: "c1"), from: table))
        #expect(table.saveLines == before)
    }

    @Test func deleteIsIdempotent() throws {
        let table = InMemoryRuleTable()
        let teardown = IPTablesPlanner.teardown(network: "net1", containerID: "c1")
        #expect(try ChainReconciler.remove(teardown, from: table) == false)
        _ = try ChainReconciler.apply(try Self.plan(), to: table)
        #expect(try ChainReconciler.remove(teardown, from: table))
        #expect(try ChainReconciler.remove(teardown, from: table) == false)
        #expect(!table.saveLines.contains { $0.contains("c1") || $0.contains(ChainName.dnat(network: "net1", containerID: "c1")) })
    }

    /// The pre-0.7 SNAT chain of the same container goes too, with its jump.
    @Test func deleteRemovesTheOldSNATChain() throws {
        let table = InMemoryRuleTable()
        let old = ChainName.oldSNAT(network: "net1", containerID: "c1")
        try table.createChain(ChainName.oldTopLevelSNAT)
        try table.createChain(old)
        try table.append(IPTablesRule(target: .jump(old)), to: ChainName.oldTopLevelSNAT)
        #expect(try ChainReconciler.remove(IPTablesPlanner.teardown(network: "net1", containerID: "c1"), from: table))
        #expect(!table.chainExists(old))
        #expect(try table.rules(in: ChainName.oldTopLevelSNAT).isEmpty)
    }

    @Test func checkNamesWhatIsMissing() throws {
        let table = InMemoryRuleTable()
        let plan = try Self.plan()
        _ = try ChainReconciler.apply(plan, to: table)
        let chain = ChainName.dnat(network: "net1", containerID: "c1")
        try table.deleteRule(in: chain, at: 2)
        try table.deleteRule(in: "OUTPUT", at: 0)
        #expect(
            try ChainReconciler.problems(plan, in: table) == [
                "iptables nat: rule missing: -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
                "iptables nat: rule missing: -A \(chain) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.5:80",
            ])
    }

    @Test func checkFlagsRulesThatDoNotBelong() throws {
        let table = InMemoryRuleTable()
        let plan = try Self.plan()
        _ = try ChainReconciler.apply(plan, to: table)
        let chain = ChainName.dnat(network: "net1", containerID: "c1")
        try table.append(IPTablesRule(protocolNumber: Inverted(6), matches: [.destinationPort(.tcp, 1)], target: .verdict("ACCEPT")), to: chain)
        #expect(
            try ChainReconciler.problems(plan, in: table) == [
                "iptables nat: unexpected rule: -A \(chain) -p tcp -m tcp --dport 1 -j ACCEPT"
            ])
    }

    @Test func externalMarkChainMustExist() throws {
        let table = InMemoryRuleTable()
        let plan = try Self.plan(extra: #""externalSetMarkChain": "KUBE-MARK-MASQ","#)
        #expect(throws: BackendError(.invalidConfig, "externalSetMarkChain \"KUBE-MARK-MASQ\" does not exist in the iptables nat table")) {
            _ = try ChainReconciler.apply(plan, to: table)
        }
        #expect(table.edits == 0)
        try table.createChain("KUBE-MARK-MASQ")
        #expect(try ChainReconciler.apply(plan, to: table))
        #expect(!table.chainExists(ChainName.setMark))
    }
}
