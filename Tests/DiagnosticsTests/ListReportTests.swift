import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// `hostports list` over fixed snapshots: the interpretation of the plugin's layout and the exact
/// text and JSON an operator (or a script) reads.
@Suite struct ListReportTests {
    static let webChain = "CNI-DN-bb5150d05b4c4f6af2c57"
    static let boundChain = "CNI-DN-adc2368232aa14c4f2392"

    @Test func interpretsEveryDNATOfThePluginLayout() {
        let inventory = HostPortInventory(SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound]))
        let summary = inventory.mappings.map {
            "\($0.family) \($0.protocol) \($0.hostIPText):\($0.hostPort) -> \($0.podIP):\($0.podPort) \($0.containerID!.prefix(4)) entry \($0.entryIndex!)"
        }
        #expect(
            summary == [
                "ipv4 tcp *:8080 -> 10.88.0.2:80 aaaa entry 0",
                "ipv4 udp *:5353 -> 10.88.0.2:53 aaaa entry 1",
                "ipv4 tcp 192.0.2.2:9090 -> 10.88.0.3:90 bbbb entry 2",
                "ipv6 tcp *:8080 -> 2001:db8:88::2:80 aaaa entry 0",
                "ipv6 udp *:5353 -> 2001:db8:88::2:53 aaaa entry 1",
            ])
        // IPv4 marks hairpin and 127.0.0.1; IPv6 only hairpin.
        #expect(inventory.mappings.map(\.localhostMasquerade) == [true, true, true, false, false])
        #expect(inventory.mappings.allSatisfy { $0.hairpinMasquerade })
        #expect(inventory.tables.allSatisfy { $0.preroutingHook && $0.outputHook && $0.masqueradeHook && $0.orphanChains.isEmpty })
    }

    @Test func withoutSNATNothingIsMarked() {
        var pod = SnapshotFixtures.web
        pod.snat = false
        let mappings = HostPortInventory(SnapshotFixtures.snapshot([pod])).mappings
        #expect(mappings.count == 4)
        #expect(!mappings.contains { $0.hairpinMasquerade || $0.localhostMasquerade })
    }

    @Test func goldenTable() {
        let listener = ListeningSocket(
            protocol: .tcp, family: .ipv6, address: IPAddress("::")!, port: 8080, acceptsIPv4: true,
            inode: 42, owners: [.init(pid: 7, command: "nginx")])
        let snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.web, SnapshotFixtures.bound], listeners: [listener])
        #expect(
            Reports.listTable(HostPortInventory(snapshot)) == """
                PROTO  HOST IP        HOST PORT  POD                  OWNER        NETWORK      CONTAINER     FAMILY  RULE IN                                           LISTENERS
                tcp    all addresses  8080       10.88.0.2:80         cni-portmap  hostport-v4  aaaaaaaaaaaa  ipv4    iptables-legacy nat \(Self.webChain)  nginx[7] ([::]:8080)
                udp    all addresses  5353       10.88.0.2:53         cni-portmap  hostport-v4  aaaaaaaaaaaa  ipv4    iptables-legacy nat \(Self.webChain)  -
                tcp    192.0.2.2      9090       10.88.0.3:90         cni-portmap  hostport-v4  bbbbbbbbbbbb  ipv4    iptables-legacy nat \(Self.boundChain)  -
                tcp    all addresses  8080       [2001:db8:88::2]:80  cni-portmap  hostport-v4  aaaaaaaaaaaa  ipv6    iptables-legacy nat \(Self.webChain)  nginx[7] ([::]:8080)
                udp    all addresses  5353       [2001:db8:88::2]:53  cni-portmap  hostport-v4  aaaaaaaaaaaa  ipv6    iptables-legacy nat \(Self.webChain)  -

                """)
    }

    @Test func emptyNodeSaysSoAndNamesMissingTables() {
        let snapshot = NodeSnapshot(tables: [
            .nat(NatTableSnapshot(family: .ipv4, exists: true, chains: [])),
            .nat(NatTableSnapshot(family: .ipv6, exists: false)),
        ])
        #expect(
            Reports.listTable(HostPortInventory(snapshot)) == """
                no hostPort mappings
                  iptables-legacy nat (ipv4): no mappings
                  iptables-legacy nat (ipv6): does not exist

                """)
        let withNFTables = NodeSnapshot(tables: [.nftables(NFTablesSnapshot(family: .ipv4, exists: false))])
        #expect(Reports.listTable(HostPortInventory(withNFTables)) == "no hostPort mappings\n  nftables ip cni_portmaps: does not exist\n")
    }

    @Test func goldenJSON() {
        let listener = ListeningSocket(
            protocol: .tcp, family: .ipv4, address: IPAddress("192.0.2.2")!, port: 9090,
            inode: 9, owners: [.init(pid: 12, command: "nc")])
        var snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.bound], listeners: [listener])
        snapshot.editNatTable(.ipv6) { $0 = NatTableSnapshot(family: .ipv6, exists: false) }
        #expect(
            Reports.listJSON(HostPortInventory(snapshot)) == """
                {
                  "schema": 1,
                  "mappings": [
                    {
                      "protocol": "tcp",
                      "family": "ipv4",
                      "hostIP": "192.0.2.2",
                      "hostPort": 9090,
                      "podIP": "10.88.0.3",
                      "podPort": 90,
                      "owner": "cni-portmap",
                      "network": "hostport-v4",
                      "containerID": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                      "workload": null,
                      "store": "iptables-legacy",
                      "table": "nat",
                      "chain": "\(Self.boundChain)",
                      "reachable": true,
                      "hairpinMasquerade": true,
                      "localhostMasquerade": true,
                      "rule": "-A \(Self.boundChain) -d 192.0.2.2/32 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.88.0.3:90",
                      "listeners": [
                        {
                          "protocol": "tcp",
                          "family": "ipv4",
                          "address": "192.0.2.2",
                          "port": 9090,
                          "processes": [
                            {
                              "pid": 12,
                              "command": "nc"
                            }
                          ]
                        }
                      ]
                    }
                  ],
                  "tables": [
                    {
                      "owner": "cni-portmap",
                      "entryChain": "CNI-HOSTPORT-DNAT",
                      "family": "ipv4",
                      "store": "iptables-legacy",
                      "table": "nat",
                      "exists": true,
                      "preroutingHook": true,
                      "outputHook": true,
                      "masqueradeHook": true,
                      "orphanChains": []
                    },
                    {
                      "owner": "cni-portmap",
                      "entryChain": "CNI-HOSTPORT-DNAT",
                      "family": "ipv6",
                      "store": "iptables-legacy",
                      "table": "nat",
                      "exists": false,
                      "preroutingHook": false,
                      "outputHook": false,
                      "masqueradeHook": false,
                      "orphanChains": []
                    }
                  ],
                  "servicePorts": []
                }

                """)
    }

    /// A socket on another address than a bound mapping's is not in its way; one on every address is.
    @Test func listenersShareOnlyClaimedAddresses() {
        let snapshot = SnapshotFixtures.snapshot([SnapshotFixtures.bound])
        let inventory = HostPortInventory(snapshot)
        let mapping = inventory.mappings[0]
        func socket(_ address: String, _ port: UInt16 = 9090, _ transport: TransportProtocol = .tcp, v4: Bool = false) -> ListeningSocket {
            let ip = IPAddress(address)!
            return ListeningSocket(protocol: transport, family: ip.family, address: ip, port: port, acceptsIPv4: v4)
        }
        let cases: [(ListeningSocket, Bool)] = [
            (socket("192.0.2.2"), true), (socket("0.0.0.0"), true), (socket("::", v4: true), true),
            (socket("::"), false), (socket("192.0.2.1"), false), (socket("127.0.0.1"), false),
            (socket("192.0.2.2", 9091), false), (socket("192.0.2.2", 9090, .udp), false),
        ]
        for (listener, shared) in cases {
            var withSocket = snapshot
            withSocket.listeners = [listener]
            #expect(HostPortInventory(withSocket).listeners(sharing: mapping).isEmpty != shared, "\(listener.address):\(listener.port)")
        }
    }
}
