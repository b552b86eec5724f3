import Diagnostics
import PortmapCore
import Testing

/// The nftables backend's table through the same analysis: listed with its store, explained
/// through its maps (hostIP first), and in conflict with a legacy claim of the same port.
@Suite struct NFTablesDiagnosticsTests {
    static let pods = [SnapshotFixtures.web, SnapshotFixtures.bound]

    @Test func listsMapElementsAsMappings() {
        let inventory = HostPortInventory(SnapshotFixtures.nftSnapshot(Self.pods))
        let summary = inventory.mappings.map {
            "\($0.store) \($0.table) \($0.chain) \($0.protocol) \($0.hostIPText):\($0.hostPort) -> \($0.podIP):\($0.podPort) \($0.containerID!.prefix(4)) \($0.hairpinMasquerade) \($0.localhostMasquerade)"
        }
        #expect(
            summary == [
                "nftables ip cni_portmaps hostport_dnat tcp *:8080 -> 10.88.0.2:80 aaaa true true",
                "nftables ip cni_portmaps hostport_dnat udp *:5353 -> 10.88.0.2:53 aaaa true true",
                "nftables ip cni_portmaps hostip_dnat tcp 192.0.2.2:9090 -> 10.88.0.3:90 bbbb true true",
                "nftables ip6 cni_portmaps hostport_dnat tcp *:8080 -> 2001:db8:88::2:80 aaaa true false",
                "nftables ip6 cni_portmaps hostport_dnat udp *:5353 -> 2001:db8:88::2:53 aaaa true false",
            ])
        #expect(ConflictFinder.findings(in: inventory).isEmpty)
    }

    @Test func explainsThroughTheMaps() {
        let inventory = HostPortInventory(SnapshotFixtures.nftSnapshot(Self.pods))
        let answered = PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:8080")!, in: inventory)
        #expect(answered.failure == nil)
        #expect(answered.steps.map(\.name) == [.address, .hook, .entryRule, .dnat, .podRoute, .hairpin])
        #expect(answered.steps[1].detail == "prerouting and output jump to hostports (nftables ip cni_portmaps)")
        #expect(answered.steps[2].detail == "nftables ip cni_portmaps: chain hostports looks tcp/8080 up in hostport_dnat")
        let bound = PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:9090")!, in: inventory)
        #expect(bound.failure?.detail == "tcp/9090 is mapped only on hostIP 192.0.2.2, not on 192.0.2.1")
        #expect(PacketPathExplainer.explain(ExplainTarget(parsing: "127.0.0.1:8080")!, in: inventory).failure == nil)
    }

    /// The hostIP map is looked up first: a bound claim wins on its address over another
    /// container's every-address claim, whatever the order they were added in.
    @Test func hostIPMapComesFirst() {
        var wildcard = ConflictFinderTests.twin
        wildcard.mappings = #"{"hostPort": 9090, "containerPort": 8000}"#
        let inventory = HostPortInventory(SnapshotFixtures.nftSnapshot([wildcard, SnapshotFixtures.bound]))
        #expect(
            PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.2:9090")!, in: inventory).verdict
                == "reaches 10.88.0.3:90 (hostport-v4/bbbbbbbbbbbb)")
        #expect(
            PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:9090")!, in: inventory).verdict
                == "reaches 10.88.0.4:8000 (hostport-v4/cccccccccccc)")
        #expect(ConflictFinder.findings(in: inventory).map(\.kind) == [.wildcardOverlap])
    }

    @Test func legacyAndNFTablesClaimingOnePort() {
        let inventory = HostPortInventory(SnapshotFixtures.nftSnapshot([SnapshotFixtures.web], legacy: [ConflictFinderTests.twin]))
        let findings = ConflictFinder.findings(in: inventory)
        #expect(findings.map(\.kind) == [.duplicateClaim])
        #expect(findings.first?.message.hasSuffix("one in iptables-legacy, one in nftables: which answers depends on the order their hooks were registered") == true)
    }

    @Test func missingChainsAreHooksMissing() {
        var snapshot = SnapshotFixtures.nftSnapshot(Self.pods)
        snapshot.editNFTable(.ipv4) { $0.chains.removeAll { $0 == "prerouting" } }
        let findings = ConflictFinder.findings(in: HostPortInventory(snapshot))
        #expect(findings.map(\.kind) == [.hookMissing])
        #expect(findings.first?.message == "nftables nat (ipv4): chain prerouting (fib daddr type local jump hostports) is missing: no hostPort answers to other hosts")
        let explanation = PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:8080")!, in: HostPortInventory(snapshot))
        #expect(explanation.steps[1].status == .warn)
        snapshot.editNFTable(.ipv4) { $0.chains.removeAll { $0 == "hostports" } }
        #expect(PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:8080")!, in: HostPortInventory(snapshot)).failure?.name == .hook)
    }
}
