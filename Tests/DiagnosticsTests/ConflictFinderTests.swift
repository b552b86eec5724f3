import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// `hostports conflicts` over fixed snapshots: each kind of finding appears exactly when its
/// cause is there, and a healthy node has none.
@Suite struct ConflictFinderTests {
    static let twin = FixturePod(
        containerID: "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        addresses: ["10.88.0.4/24"], mappings: #"{"hostPort": 8080, "containerPort": 8000}"#)

    func kinds(_ snapshot: NodeSnapshot) -> [String] {
        ConflictFinder.findings(in: HostPortInventory(snapshot)).map { "\($0.kind.rawValue) \($0.family)" }
    }

    @Test func healthyNodeHasNone() {
        #expect(kinds(SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound])) == [])
    }

    @Test func duplicateClaimNamesTheWinnerByEntryOrder() {
        let inventory = HostPortInventory(SnapshotFixtures.snapshot([SnapshotFixtures.web, Self.twin]))
        let findings = ConflictFinder.findings(in: inventory)
        #expect(findings.map(\.kind) == [.duplicateClaim])
        #expect(
            findings.first?.message
                == "tcp/8080 on every address is claimed by hostport-v4/aaaaaaaaaaaa and hostport-v4/cccccccccccc; only hostport-v4/aaaaaaaaaaaa answers")
        #expect(findings.first.map { $0.mappings.map { inventory.mappings[$0].podIP.description } } == ["10.88.0.2", "10.88.0.4"])
    }

    @Test func wildcardOverlapsBoundClaim() {
        var bound = Self.twin
        bound.mappings = #"{"hostPort": 8080, "containerPort": 8000, "hostIP": "192.0.2.2"}"#
        let findings = ConflictFinder.findings(in: HostPortInventory(SnapshotFixtures.snapshot([bound, SnapshotFixtures.web])))
        #expect(findings.map(\.kind) == [.wildcardOverlap])
        #expect(
            findings.first?.message
                == "tcp/8080 is claimed on every address by hostport-v4/aaaaaaaaaaaa and on 192.0.2.2 by hostport-v4/cccccccccccc; on that address only hostport-v4/cccccccccccc answers"
        )
    }

    @Test func distinctHostIPsDoNotConflict() {
        var one = Self.twin
        var two = SnapshotFixtures.bound
        one.mappings = #"{"hostPort": 9090, "containerPort": 8000, "hostIP": "192.0.2.1"}"#
        two.mappings = #"{"hostPort": 9090, "containerPort": 8000, "hostIP": "192.0.2.2"}"#
        #expect(kinds(SnapshotFixtures.snapshot([one, two])) == [])
    }

    @Test func listenerOnAMappedPort() {
        let socket = ListeningSocket(
            protocol: .udp, family: .ipv4, address: IPAddress("0.0.0.0")!, port: 5353,
            owners: [.init(pid: 99, command: "avahi-daemon")])
        let findings = ConflictFinder.findings(in: HostPortInventory(SnapshotFixtures.snapshot([SnapshotFixtures.web], listeners: [socket])))
        #expect(findings.map(\.kind) == [.shadowedListener])
        #expect(
            findings.first?.message
                == "avahi-daemon[99] (0.0.0.0:5353) listens on udp/5353, which hostport-v4/aaaaaaaaaaaa maps on every address to 10.88.0.2:53: connections to it reach the pod, not the process"
        )
    }

    @Test func orphanChainWhenTheEntryRulesAreGone() {
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound])
        snapshot.editChain(ChainName.topLevelDNAT, .ipv4) { $0.removeAll { $0.target.jumpedChain == ListReportTests.boundChain } }
        let findings = ConflictFinder.findings(in: HostPortInventory(snapshot))
        #expect(findings.map(\.kind) == [.orphanChain])
        #expect(findings.first?.chains == [ListReportTests.boundChain])
        // Its DNAT is still listed, as unreachable and without an owner.
        let orphan = HostPortInventory(snapshot).mappings.first { $0.chain == ListReportTests.boundChain }
        #expect(orphan?.entryIndex == nil && orphan?.containerID == nil)
    }

    @Test func entryRuleWithoutItsDNAT() {
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web])
        snapshot.editChain(ListReportTests.webChain, .ipv6) { rules in
            rules.removeAll { if case .dnat(_, 53) = $0.target { return true } else { return false } }
        }
        let findings = ConflictFinder.findings(in: HostPortInventory(snapshot))
        #expect(findings.map(\.kind) == [.entryWithoutDNAT])
        #expect(
            findings.first?.message
                == "iptables-legacy nat (ipv6): entry rule #2 of CNI-HOSTPORT-DNAT (hostport-v4/aaaaaaaaaaaa) jumps to \(ListReportTests.webChain), which has no DNAT rule for port 5353"
        )
    }

    /// Both plugins list a port bound to an IPv4 hostIP in the container's IPv6 entry rules too,
    /// with its DNAT only in IPv4: that is the layout, not a broken entry rule.
    @Test func portBoundInTheOtherFamilyIsNotAMissingDNAT() {
        var pod = SnapshotFixtures.web
        pod.mappings = #"{"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.2"}"#
        #expect(kinds(SnapshotFixtures.snapshot([pod])) == [])
    }

    /// The Go plugin's chains in both iptables stores, or in one with kube-proxy's in the other,
    /// are a split node, per family; kube-proxy's chains next to ours in one store are not.
    @Test func splitStores() throws {
        func node(legacy: [FixturePod], nft: [FixturePod], kubeIn: RuleStore? = nil) -> NodeSnapshot {
            var snapshot = SnapshotFixtures.snapshot(legacy + nft)
            var tables: [TableSnapshot] = []
            for (store, pods) in [(RuleStore.iptablesLegacy, legacy), (.iptablesNFT, nft)] {
                for family in IPFamily.allCases {
                    var table = SnapshotFixtures.natTable(family, pods)
                    table.store = store
                    if kubeIn == store { table.chains.append(.init(name: "KUBE-SERVICES", rules: [])) }
                    tables.append(.nat(table))
                }
            }
            snapshot.tables = tables
            return snapshot
        }
        let split = ConflictFinder.findings(in: HostPortInventory(node(legacy: [SnapshotFixtures.web], nft: [SnapshotFixtures.bound])))
        #expect(split.map { "\($0.kind.rawValue) \($0.family)" } == ["split-stores ipv4"])
        #expect(
            split.first?.message
                == "CNI hostPort chains are in both iptables stores: 1 CNI-DN- chains in iptables-legacy, 1 in iptables-nft; both hook in at the same priority, so a port claimed in both answers from one of them only"
        )
        let kube = ConflictFinder.findings(in: HostPortInventory(node(legacy: [], nft: [SnapshotFixtures.web], kubeIn: .iptablesLegacy)))
        #expect(kube.map { "\($0.kind.rawValue) \($0.family)" } == ["split-stores ipv4", "split-stores ipv6"])
        let advice = try #require(kube.first?.advice)
        #expect(advice.hasPrefix("set the portmap config's iptablesStore to legacy"))
        #expect(kinds(node(legacy: [], nft: [SnapshotFixtures.web], kubeIn: .iptablesNFT)) == [])
        #expect(kinds(node(legacy: [SnapshotFixtures.web, SnapshotFixtures.bound], nft: [])) == [])
    }

    @Test func missingHooks() {
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web])
        snapshot.editChain("PREROUTING", .ipv4) { $0.removeAll() }
        #expect(kinds(snapshot) == ["hook-missing ipv4"])
        snapshot.editChain("OUTPUT", .ipv6) { $0.removeAll() }
        #expect(kinds(snapshot) == ["hook-missing ipv4", "hook-missing ipv6"])
    }

    @Test func podWithoutRouteOrNamespace() {
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound])
        snapshot.routes[IPAddress("10.88.0.3")!] = RouteFact(kind: .unreachable)
        snapshot.routes[IPAddress("2001:db8:88::2")!] = RouteFact(kind: .unicast, outputInterface: "eth0", gateway: IPAddress("2001:db8::fe"))
        #expect(kinds(snapshot) == ["pod-unroutable ipv4", "pod-unroutable ipv6"])

        var gone = SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound])
        gone.podNamespaceAddresses?.remove(IPAddress("10.88.0.2")!)
        let findings = ConflictFinder.findings(in: HostPortInventory(gone))
        #expect(findings.map(\.kind) == [.podGone])
        #expect(findings.first?.mappings.count == 2)  // both of the pod's IPv4 mappings
        gone.unenteredNamespaces = 2
        #expect(
            ConflictFinder.findings(in: HostPortInventory(gone)).first?.message.hasSuffix(
                "(no CNI DEL) (2 network namespace(s) could not be entered)") == true)
        // Without a namespace scan nothing is concluded.
        gone.podNamespaceAddresses = nil
        #expect(kinds(gone) == [])
    }

    @Test func goldenTextAndJSON() {
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web, Self.twin])
        snapshot.editNatTable(.ipv6) { $0 = NatTableSnapshot(family: .ipv6, exists: false) }
        let inventory = HostPortInventory(snapshot)
        let findings = ConflictFinder.findings(in: inventory)
        #expect(
            Reports.conflictsTable(findings, inventory) == """
                KIND             FAMILY  PROBLEM
                duplicate-claim  ipv4    tcp/8080 on every address is claimed by hostport-v4/aaaaaaaaaaaa and hostport-v4/cccccccccccc; only hostport-v4/aaaaaaaaaaaa answers

                KIND             WHAT TO DO
                duplicate-claim  remove one of the pods, or give each a different hostPort or hostIP

                """)
        let json = Reports.conflictsJSON(findings, inventory)
        let parsed = try? JSONParser.parse(Array(json.utf8))
        guard case .object(let document) = parsed, case .array(let conflicts) = document["conflicts"],
            case .object(let first) = conflicts.first, case .array(let mappings) = first["mappings"]
        else {
            Issue.record("not the documented shape: \(json)")
            return
        }
        #expect(document["schema"] == .number(JSONNumber(1)))
        #expect(first["kind"] == .string("duplicate-claim"))
        #expect(first.keys == ["kind", "family", "message", "advice", "mappings", "chains", "servicePorts"])
        #expect(mappings.count == 2)
    }

    @Test func noConflictsLine() {
        let inventory = HostPortInventory(SnapshotFixtures.snapshot([SnapshotFixtures.web]))
        #expect(Reports.conflictsTable([], inventory) == "no conflicts among 4 hostPort mappings\n")
    }
}
