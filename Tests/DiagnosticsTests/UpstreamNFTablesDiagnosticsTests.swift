import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// Upstream's nftables table through the same analysis: its rules listed as mappings with their
/// store and container ID, explained through `hostports_all`, and a claim of a port ours maps
/// too reported as a conflict across the two tables.
@Suite struct UpstreamNFTablesDiagnosticsTests {
    /// Upstream's IPv4 table holding container `cccc…`: 8080 on every address, 8443 on 192.0.2.1,
    /// the hairpin and localhost masquerade rules.
    static func upstreamTable(containerID: String = String(repeating: "c", count: 64), port: UInt16 = 8080) -> UpstreamNFTablesSnapshot {
        let pod = IPAddress("10.88.0.5")!
        return UpstreamNFTablesSnapshot(
            family: .ipv4, exists: true,
            chains: ["hostports", "hostip_hostports", "hostports_all", "prerouting", "output", "masquerading"],
            rules: [
                UpstreamNFTablesRule(
                    chain: "hostports", containerID: containerID, action: .dnat(.tcp, hostIP: nil, hostPort: port, pod: pod, podPort: 80),
                    text: "tcp dport \(port) dnat to 10.88.0.5:80"),
                UpstreamNFTablesRule(
                    chain: "hostports", containerID: containerID,
                    action: .dnat(.tcp, hostIP: IPAddress("192.0.2.1")!, hostPort: 8443, pod: pod, podPort: 443),
                    text: "ip daddr 192.0.2.1 tcp dport 8443 dnat to 10.88.0.5:443"),
                UpstreamNFTablesRule(
                    chain: "masquerading", containerID: containerID, action: .masquerade(source: pod, pod: pod), text: "ip saddr 10.88.0.5 ip daddr 10.88.0.5 masquerade"),
                UpstreamNFTablesRule(
                    chain: "masquerading", containerID: containerID, action: .masquerade(source: IPAddress("127.0.0.1")!, pod: pod),
                    text: "ip saddr 127.0.0.1 ip daddr 10.88.0.5 masquerade"),
            ])
    }

    @Test func listsRulesAsMappings() {
        var snapshot = SnapshotFixtures.nftSnapshot([])
        snapshot.tables.append(.upstreamNFTables(Self.upstreamTable()))
        snapshot.podNamespaceAddresses?.insert(IPAddress("10.88.0.5")!)
        let inventory = HostPortInventory(snapshot)
        let summary = inventory.mappings.map {
            "\($0.store) \($0.table) \($0.chain) \($0.protocol) \($0.hostIPText):\($0.hostPort) -> \($0.podIP):\($0.podPort) \($0.containerID!.prefix(4)) \($0.network ?? "-") \($0.hairpinMasquerade) \($0.localhostMasquerade)"
        }
        #expect(
            summary == [
                "nftables-upstream ip cni_hostport hostports tcp *:8080 -> 10.88.0.5:80 cccc - true true",
                "nftables-upstream ip cni_hostport hostports tcp 192.0.2.1:8443 -> 10.88.0.5:443 cccc - true true",
            ])
        #expect(ConflictFinder.findings(in: inventory).isEmpty, "one container's own mappings")
        let answered = PacketPathExplainer.explain(ExplainTarget(parsing: "192.0.2.1:8080")!, in: inventory)
        #expect(answered.failure == nil)
        #expect(answered.steps[1].detail.hasSuffix("; prerouting and output jump to hostports_all (nftables-upstream ip cni_hostport)"))
        #expect(answered.steps[2].detail == "nftables-upstream ip cni_hostport: chain hostports_all jumps to hostports, which take tcp/8080")
    }

    /// Ours and upstream's each map tcp/8080 on every address: a duplicate claim across the two
    /// tables; so are two upstream containers on one port, though they share a chain.
    @Test func claimsAcrossTheTablesConflict() {
        var snapshot = SnapshotFixtures.nftSnapshot([SnapshotFixtures.web])
        snapshot.tables.append(.upstreamNFTables(Self.upstreamTable()))
        let findings = ConflictFinder.findings(in: HostPortInventory(snapshot)).filter { $0.kind == .duplicateClaim }
        #expect(findings.count == 1)
        #expect(findings.first?.message.contains("one in nftables, one in nftables-upstream") == true, "\(findings)")
        var upstreamOnly = SnapshotFixtures.nftSnapshot([])
        var two = Self.upstreamTable()
        two.rules += Self.upstreamTable(containerID: String(repeating: "d", count: 64)).rules.prefix(1)
        upstreamOnly.tables.append(.upstreamNFTables(two))
        let between = ConflictFinder.findings(in: HostPortInventory(upstreamOnly)).filter { $0.kind == .duplicateClaim }
        #expect(between.count == 1)
        #expect(between.first?.message.contains("container cccccccccccc (nftables-upstream)") == true, "\(between)")
    }
}
