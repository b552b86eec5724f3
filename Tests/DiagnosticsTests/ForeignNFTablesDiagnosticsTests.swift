import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// Other programs' nftables tables as the reader summarizes them: DNATs of node ports, fixed or
/// through a map, attributed by the table's name; kube-proxy's verdict maps as Service ports;
/// element keys and values decoded by their nft datatypes.
@Suite struct ForeignNFTablesDiagnosticsTests {
    static func bytes(_ address: String) -> [UInt8] { IPAddress(address)!.bytes }
    static func port(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF), 0, 0] }
    static func proto(_ value: UInt8) -> [UInt8] { [value, 0, 0, 0] }
    /// `ipv4_addr . inet_proto . inet_service`, as nft packs it (first field highest).
    static let addressProtoPort: UInt32 = 7 << 12 | 12 << 6 | 13
    static let protoPort: UInt32 = 12 << 6 | 13
    static let addressPort: UInt32 = 7 << 6 | 13
    static let verdict: UInt32 = 0xFFFF_FF00

    static let natPrerouting = ForeignNFTablesSnapshot.Chain(name: "prerouting", hook: .prerouting, priority: -100, type: "nat")

    @Test func fixedAndMappedDNATsOfAnInetTable() {
        let table = ForeignNFTablesSnapshot(
            family: "inet", name: "netavark", chains: [Self.natPrerouting, .init(name: "NETAVARK-HOSTPORT-DNAT")],
            rules: [
                .init(chain: "prerouting", localDestination: true, verdict: .jump("NETAVARK-HOSTPORT-DNAT")),
                .init(
                    chain: "NETAVARK-HOSTPORT-DNAT", comment: "dnat name: podman id: 0123456789abcdef", family: .ipv4, protocol: .tcp,
                    destinationPort: 6080, translation: .fixed(IPAddress("10.88.0.2"), port: 80)),
                .init(
                    chain: "NETAVARK-HOSTPORT-DNAT", family: .ipv6, protocol: .udp, destination: IPAddress("2001:db8::1"), destinationPort: 6053,
                    translation: .fixed(IPAddress("2001:db8:88::2"), port: 53)),
                .init(chain: "unreached", family: .ipv4, protocol: .tcp, destinationPort: 6099, translation: .fixed(IPAddress("10.88.0.9"), port: 99)),
                .init(chain: "NETAVARK-HOSTPORT-DNAT", translation: .map("ports")),
            ],
            sets: [
                .init(
                    name: "ports", keyType: Self.addressProtoPort, dataType: Self.addressPort,
                    elements: [.init(key: Self.bytes("192.0.2.1") + Self.proto(6) + Self.port(6443), data: Self.bytes("10.88.0.3") + Self.port(443))])
            ])
        let tables = ForeignNFTablesInterpreter.interpret(table)
        #expect(tables.map { "\($0.owner) \($0.family) \($0.table) \($0.preroutingHook)" } == ["netavark ipv4 inet netavark true", "netavark ipv6 inet netavark true"])
        let rows = tables.flatMap(\.mappings).map {
            "\($0.protocol)/\($0.hostIPText):\($0.hostPort) -> \($0.family == .ipv6 ? "[\($0.podIP)]" : "\($0.podIP)"):\($0.podPort) \($0.containerID ?? "-") \($0.entryIndex != nil)"
        }
        #expect(
            rows == [
                "tcp/*:6080 -> 10.88.0.2:80 0123456789abcdef true", "tcp/*:6099 -> 10.88.0.9:99 - false",
                "tcp/192.0.2.1:6443 -> 10.88.0.3:443 - true", "udp/2001:db8::1:6053 -> [2001:db8:88::2]:53 - true",
            ])
    }

    @Test func aRuleWithExpressionsTheSummaryLacksIsNotTakenForADNAT() {
        let table = ForeignNFTablesSnapshot(
            family: "ip", name: "mystery", chains: [Self.natPrerouting],
            rules: [.init(chain: "prerouting", protocol: .tcp, destinationPort: 80, translation: .fixed(IPAddress("10.0.0.2"), port: 80), unread: ["ct"])])
        #expect(ForeignNFTablesInterpreter.interpret(table).flatMap(\.mappings).isEmpty)
    }

    @Test func kubeProxyServicePortsFromItsVerdictMaps() {
        let table = ForeignNFTablesSnapshot(
            family: "ip", name: "kube-proxy",
            chains: [.init(name: "nat-prerouting", hook: .prerouting, priority: -100, type: "nat"), .init(name: "services")],
            rules: [
                .init(chain: "nat-prerouting", verdict: .jump("services")),
                .init(chain: "services", verdictMap: "service-ips"),
                .init(chain: "services", lookups: ["nodeport-ips"], verdictMap: "service-nodeports"),
            ],
            sets: [
                .init(name: "nodeport-ips", keyType: 7, elements: [.init(key: Self.bytes("192.0.2.1")), .init(key: Self.bytes("192.0.2.2"))]),
                .init(
                    name: "service-ips", keyType: Self.addressProtoPort, dataType: Self.verdict,
                    elements: [
                        .init(key: Self.bytes("10.96.0.10") + Self.proto(17) + Self.port(53), chain: "service-NWBZK7IH-kube-system/kube-dns/udp/dns"),
                        .init(key: Self.bytes("192.0.2.20") + Self.proto(6) + Self.port(443), chain: "external-ABCDEFGH-shop/checkout/tcp/https"),
                    ]),
                .init(
                    name: "service-nodeports", keyType: Self.protoPort, dataType: Self.verdict,
                    elements: [.init(key: Self.proto(6) + Self.port(32080), chain: "external-QWERTYUI-web/frontend/tcp/http")]),
            ])
        #expect(ForeignNFTablesInterpreter.interpret(table).isEmpty, "kube-proxy's endpoints DNATs are not hostPorts")
        let inventory = HostPortInventory(NodeSnapshot(tables: [.foreignNFTables(table)]))
        #expect(
            inventory.servicePorts.map { "\($0.kind.rawValue) \($0.protocol)/\($0.address?.description ?? "*"):\($0.port) \($0.service ?? "-") \($0.reachable)" } == [
                "external-ip tcp/192.0.2.20:443 shop/checkout:https true",
                "node-port tcp/192.0.2.1:32080 web/frontend:http true", "node-port tcp/192.0.2.2:32080 web/frontend:http true",
            ])
    }

    @Test func hostPortOnAnNFTablesNodePortNamesBothTables() {
        let kubeProxy = ForeignNFTablesSnapshot(
            family: "ip", name: "kube-proxy", chains: [.init(name: "nat-prerouting", hook: .prerouting, priority: -100, type: "nat")],
            rules: [.init(chain: "nat-prerouting", localDestination: true, verdictMap: "service-nodeports")],
            sets: [
                .init(
                    name: "service-nodeports", keyType: Self.protoPort, dataType: Self.verdict,
                    elements: [.init(key: Self.proto(6) + Self.port(8080), chain: "external-QWERTYUI-web/frontend/tcp/http")])
            ])
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web])
        snapshot.tables.append(.foreignNFTables(kubeProxy))
        let findings = ConflictFinder.findings(in: HostPortInventory(snapshot)).filter { $0.kind == .servicePortOverlap }
        #expect(
            findings.map(\.message) == [
                "tcp/8080 is kube-proxy's node-port web/frontend:http on every node address and hostport-v4/aaaaaaaaaaaa's hostPort on every address; "
                    + "the Service's rule is in nftables ip kube-proxy, the hostPort's in iptables-legacy nat: which answers depends on their nat hooks' "
                    + "priorities, and at equal priority on the order the hooks were registered"
            ])
    }

    @Test func datatypesOfConcatenatedKeys() {
        #expect(
            Self.decode(Self.bytes("2001:db8::1") + Self.proto(17) + Self.port(53), 8 << 12 | 12 << 6 | 13)
                == "2001:db8::1 udp 53")
        #expect(Self.decode(Self.proto(6) + Self.port(80), Self.protoPort) == "tcp 80")
        // A type this reader has no size for, or bytes cut short, decode to nothing.
        #expect(Self.decode(Self.proto(6), 19) == nil)
        #expect(Self.decode(Self.proto(6), Self.protoPort) == nil)
    }

    /// The decoded fields through an inventory built only for them (the decoder is internal):
    /// a one-element DNAT map keyed by `type`, read back as the mapping it makes.
    static func decode(_ key: [UInt8], _ type: UInt32) -> String? {
        let table = ForeignNFTablesSnapshot(
            family: "inet", name: "probe", chains: [natPrerouting],
            rules: [.init(chain: "prerouting", translation: .map("m"))],
            sets: [.init(name: "m", keyType: type, dataType: addressPort, elements: [.init(key: key, data: bytes("10.0.0.2") + port(1))])])
        guard let mapping = ForeignNFTablesInterpreter.interpret(table).flatMap(\.mappings).first else { return nil }
        return [mapping.hostIP?.description, mapping.protocol.rawValue, String(mapping.hostPort)].compactMap { $0 }.joined(separator: " ")
    }
}
