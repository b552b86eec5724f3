import Testing

@testable import PortmapCore

/// The nftables plan of a container, as the `nft -f` script the integration tests load with the
/// `nft` tool to compare with what the plugin's batch built.
struct NFTablesPlannerTests {
    static let containerID = "3e1fdcd8a5e9"

    static func config(_ mappings: String, _ extra: String = "") throws -> PortMapConfig {
        try decodeConfig(
            """
            {"cniVersion": "1.0.0", "name": "hostport-dual", "type": "portmap", "backend": "nftables", \(extra)
             "runtimeConfig": {"portMappings": [\(mappings)]}}
            """)
    }

    static let mappings = """
        {"hostPort": 8080, "containerPort": 80},
        {"hostPort": 5353, "containerPort": 53, "protocol": "udp"},
        {"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.1"},
        {"hostPort": 9443, "containerPort": 443, "hostIP": "2001:db8::1"}
        """

    @Test func ipv4Script() throws {
        let plan = NFTablesPlanner.plan(try Self.config(Self.mappings), containerID: Self.containerID, container: IPNetwork("10.89.0.5/24")!)
        #expect(
            NFTablesPlanner.script(family: .ipv4, elements: plan.elements) == """
                table ip cni_portmaps {
                \tmap hostip_dnat {
                \t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
                \t\tflags timeout
                \t}
                \tmap hostport_dnat {
                \t\ttype inet_proto . inet_service : ipv4_addr . inet_service
                \t\tflags timeout
                \t}
                \tset masq_pairs {
                \t\ttype ipv4_addr . ipv4_addr
                \t\tflags interval,timeout
                \t}
                \tchain hostports {
                \t\tdnat ip to ip daddr . meta l4proto . th dport map @hostip_dnat
                \t\tdnat ip to meta l4proto . th dport map @hostport_dnat
                \t}
                \tchain prerouting {
                \t\ttype nat hook prerouting priority dstnat; policy accept;
                \t\tfib daddr type local jump hostports
                \t}
                \tchain output {
                \t\ttype nat hook output priority -100; policy accept;
                \t\tfib daddr type local jump hostports
                \t}
                \tchain postrouting {
                \t\ttype nat hook postrouting priority srcnat; policy accept;
                \t\tct status dnat ip saddr . ip daddr @masq_pairs masquerade
                \t}
                \tchain localnet_guard {
                \t\ttype filter hook prerouting priority raw; policy accept;
                \t\tiifname != "lo" ip daddr 127.0.0.0/8 drop
                \t}
                }
                add element ip cni_portmaps hostport_dnat { tcp . 8080 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 80 }
                add element ip cni_portmaps hostport_dnat { udp . 5353 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 53 }
                add element ip cni_portmaps hostip_dnat { 192.0.2.1 . tcp . 9090 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 90 }
                add element ip cni_portmaps masq_pairs { 10.89.0.0/24 . 10.89.0.5 comment "hostport-dual/3e1fdcd8a5e9" }
                add element ip cni_portmaps masq_pairs { 127.0.0.1 . 10.89.0.5 comment "hostport-dual/3e1fdcd8a5e9" }

                """)
    }

    @Test func ipv6ElementsHaveNoLoopbackPair() throws {
        let plan = NFTablesPlanner.plan(try Self.config(Self.mappings), containerID: Self.containerID, container: IPNetwork("2001:db8:89::5/64")!)
        #expect(
            plan.elements.map(NFTablesPlanner.text) == [
                #"tcp . 8080 comment "hostport-dual/3e1fdcd8a5e9" : 2001:db8:89::5 . 80"#,
                #"udp . 5353 comment "hostport-dual/3e1fdcd8a5e9" : 2001:db8:89::5 . 53"#,
                #"2001:db8::1 . tcp . 9443 comment "hostport-dual/3e1fdcd8a5e9" : 2001:db8:89::5 . 443"#,
                #"2001:db8:89::/64 . 2001:db8:89::5 comment "hostport-dual/3e1fdcd8a5e9""#,
            ])
        let script = NFTablesPlanner.script(family: .ipv6, elements: [])
        #expect(script.contains("dnat ip6 to ip6 daddr . meta l4proto . th dport map @hostip_dnat"))
        #expect(!script.contains("localnet_guard"))
    }

    @Test func snatAndMasqAllDecideTheMasqueradePairs() throws {
        let address = IPNetwork("10.89.0.5/24")!
        let off = NFTablesPlanner.plan(try Self.config(Self.mappings, #""snat": false,"#), containerID: Self.containerID, container: address)
        #expect(!off.elements.contains { $0.set == .masquerade })
        let all = NFTablesPlanner.plan(try Self.config(Self.mappings, #""masqAll": true,"#), containerID: Self.containerID, container: address)
        #expect(all.elements.filter { $0.set == .masquerade }.map(NFTablesPlanner.text) == [#"0.0.0.0/0 . 10.89.0.5 comment "hostport-dual/3e1fdcd8a5e9""#])
        let none = NFTablesPlanner.plan(try Self.config(""), containerID: Self.containerID, container: address)
        #expect(none.elements.isEmpty)
    }

    @Test func ownerFallsBackToTheChainHashWhenTooLong() {
        let network = String(repeating: "n", count: 80)
        let id = String(repeating: "c", count: 64)
        #expect(NFTablesPlanner.owner(network: "net", containerID: id) == "net/\(id)")
        #expect(NFTablesPlanner.owner(network: network, containerID: id) == ChainName.dnat(network: network, containerID: id))
        #expect(NFTablesPlanner.parseOwner("net/\(id)")! == ("net", id))
        #expect(NFTablesPlanner.parseOwner(ChainName.dnat(network: network, containerID: id)) == nil)
        #expect(NFTablesPlanner.parseOwner("a/b/c") == nil)
    }
}
