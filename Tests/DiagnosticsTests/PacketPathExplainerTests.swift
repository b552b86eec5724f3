import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// `hostports explain` over fixed snapshots: the step that fails for each way a hostPort can
/// fail to answer, and the whole path when it answers.
@Suite struct PacketPathExplainerTests {
    func explain(_ target: String, _ snapshot: NodeSnapshot) -> Explanation {
        PacketPathExplainer.explain(ExplainTarget(parsing: target)!, in: HostPortInventory(snapshot))
    }

    var node: NodeSnapshot { SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound]) }

    @Test func answeringPathGolden() {
        let explanation = explain("192.0.2.1:8080", node)
        #expect(explanation.failure == nil)
        #expect(
            Reports.explainText(explanation) == """
                192.0.2.1:8080/tcp:
                STEP        RESULT  DETAIL
                address     ok      192.0.2.1 is an address of this node
                hook        ok      PREROUTING and OUTPUT jump to CNI-HOSTPORT-DNAT (iptables-legacy nat, ipv4)
                entry-rule  ok      entry rule #1 of CNI-HOSTPORT-DNAT (hostport-v4/aaaaaaaaaaaa) sends tcp/8080 to \(ListReportTests.webChain)
                dnat        ok      -A \(ListReportTests.webChain) -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.88.0.2:80 — DNAT to 10.88.0.2:80 (hostport-v4/aaaaaaaaaaaa, iptables-legacy nat)
                pod-route   ok      10.88.0.2 routes through cni-hp0, and a network namespace on the node holds it
                hairpin     ok      pods on cni-hp0 can use it too (hairpin_mode on all 2 port(s), masquerade mark present)

                answers: reaches 10.88.0.2:80 (hostport-v4/aaaaaaaaaaaa)

                """)
    }

    @Test func notALocalAddress() {
        let explanation = explain("198.51.100.7:8080", node)
        #expect(explanation.failure?.name == .address)
        #expect(explanation.failure?.advice == "connect to one of the node's addresses: 192.0.2.1, 192.0.2.2, 10.88.0.1")
    }

    @Test func noRule() {
        #expect(explain("192.0.2.1:8081", node).failure?.name == .entryRule)
        let wrongProtocol = explain("192.0.2.1:8080/udp", node).failure
        #expect(wrongProtocol?.name == .entryRule)
        #expect(wrongProtocol?.detail.hasSuffix("(port 8080 is mapped for tcp)") == true)
    }

    @Test func ruleBoundToAnotherHostIP() {
        #expect(explain("192.0.2.2:9090", node).failure == nil)
        let failure = explain("192.0.2.1:9090", node).failure
        #expect(failure?.name == .dnat)
        #expect(failure?.detail == "tcp/9090 is mapped only on hostIP 192.0.2.2, not on 192.0.2.1")
    }

    @Test func portBoundToAnIPv4HostIPIsNamedForIPv6() {
        var pod = SnapshotFixtures.web
        pod.mappings = #"{"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.2"}"#
        let failure = explain("[2001:db8::1]:9090", SnapshotFixtures.snapshot([pod])).failure
        #expect(failure?.name == .dnat)
        #expect(failure?.detail == "tcp/9090 is mapped only on hostIP 192.0.2.2, not on 2001:db8::1")
    }

    @Test func podUnroutableOrGone() {
        var snapshot = node
        snapshot.routes[IPAddress("10.88.0.2")!] = RouteFact(kind: .unreachable)
        #expect(explain("192.0.2.1:8080", snapshot).failure?.detail == "the pod address 10.88.0.2 has no route from the node")
        snapshot = node
        snapshot.podNamespaceAddresses?.remove(IPAddress("10.88.0.2")!)
        #expect(explain("192.0.2.1:8080", snapshot).failure?.name == .podRoute)
    }

    @Test func localhostNeedsRouteLocalnet() {
        #expect(explain("127.0.0.1:8080", node).failure == nil)
        var snapshot = node
        snapshot.routeLocalnet["cni-hp0"] = false
        let failure = explain("127.0.0.1:8080", snapshot).failure
        #expect(failure?.name == .localhost)
        #expect(failure?.advice == "sysctl -w net.ipv4.conf.cni-hp0.route_localnet=1 (the plugin sets it at ADD when snat is on)")
        snapshot.routeLocalnet["all"] = true
        #expect(explain("127.0.0.1:8080", snapshot).failure == nil)
    }

    @Test func localhostNeedsTheMasqueradeMark() {
        var pod = SnapshotFixtures.web
        pod.snat = false
        let failure = explain("127.0.0.1:8080", SnapshotFixtures.snapshot([pod])).failure
        #expect(failure?.name == .localhost)
        #expect(failure?.advice == "ADD the pod with \"snat\": true (the default)")
    }

    @Test func ipv6LoopbackNeverReachesAPod() {
        #expect(explain("[::1]:8080", node).failure?.name == .localhost)
        #expect(explain("[2001:db8::1]:8080", node).failure == nil)
    }

    @Test func missingTableOrHooks() {
        var snapshot = node
        snapshot.editNatTable(.ipv6) { $0 = NatTableSnapshot(family: .ipv6, exists: false) }
        #expect(explain("[2001:db8::1]:8080", snapshot).failure?.name == .hook)
        snapshot = node
        snapshot.editChain("PREROUTING", .ipv4) { $0.removeAll() }
        let partial = explain("192.0.2.1:8080", snapshot)
        #expect(partial.failure == nil)
        #expect(partial.steps.first { $0.name == .hook }?.status == .warn)
        snapshot.editChain("OUTPUT", .ipv4) { $0.removeAll() }
        #expect(explain("192.0.2.1:8080", snapshot).failure?.name == .hook)
    }

    @Test func firstClaimWinsAndTheOtherIsNamed() {
        let twin = ConflictFinderTests.twin
        let explanation = explain("192.0.2.1:8080", SnapshotFixtures.snapshot([SnapshotFixtures.web, twin]))
        let dnat = explanation.steps.first { $0.name == .dnat }
        #expect(dnat?.status == .warn)
        #expect(dnat?.detail.hasSuffix("also claimed by hostport-v4/cccccccccccc, which never receives it") == true)
        #expect(explanation.verdict == "reaches 10.88.0.2:80 (hostport-v4/aaaaaaaaaaaa)")
        // A bound claim declared later still wins on its own address when its entry rule is first.
        var bound = twin
        bound.mappings = #"{"hostPort": 8080, "containerPort": 8000, "hostIP": "192.0.2.2"}"#
        let first = SnapshotFixtures.snapshot([bound, SnapshotFixtures.web])
        #expect(explain("192.0.2.2:8080", first).verdict == "reaches 10.88.0.4:8000 (hostport-v4/cccccccccccc)")
        #expect(explain("192.0.2.1:8080", first).verdict == "reaches 10.88.0.2:80 (hostport-v4/aaaaaaaaaaaa)")
    }

    @Test func hairpinOffAndListenerWarnings() {
        var snapshot = node
        snapshot.bridges["cni-hp0"]?[1].hairpin = false
        snapshot.listeners = [ListeningSocket(protocol: .tcp, family: .ipv4, address: IPAddress("0.0.0.0")!, port: 8080)]
        let explanation = explain("192.0.2.1:8080", snapshot)
        #expect(explanation.failure == nil)
        #expect(explanation.steps.filter { $0.status == .warn }.map(\.name) == [.hairpin, .listener])
    }

    @Test func jsonShape() {
        let json = Reports.explainJSON(explain("192.0.2.1:9090", node))
        guard case .object(let document) = try? JSONParser.parse(Array(json.utf8)) else {
            Issue.record("not JSON: \(json)")
            return
        }
        #expect(document.keys == ["schema", "target", "answers", "verdict", "failedStep", "steps"])
        #expect(document["answers"] == .bool(false))
        #expect(document["failedStep"] == .string("dnat"))
    }
}
