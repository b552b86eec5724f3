import Nftnl
import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesNFTStore

/// The rules of the layout as iptables-nft 1.8.9 sends them, without root: round trips of every
/// planned rule, the address and interface forms iptables-nft uses, and one whole message
/// against a capture of `iptables-nft-restore` (the live comparison of every rule is
/// `CapturedBatchTests`).
struct RuleExpressionsTests {
    static func config(_ json: String) throws -> PortMapConfig {
        try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
    }

    /// Every rule of plans with each kind of mapping, condition and mark: decoding what is
    /// encoded gives the rule back, so CHECK and DEL recognise what ADD wrote.
    @Test(arguments: [IPFamily.ipv4, .ipv6])
    func everyPlannedRuleRoundTrips(_ family: IPFamily) throws {
        let configs = [
            #"{"cniVersion": "1.0.0", "name": "net", "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}, {"hostPort": 53, "containerPort": 53, "protocol": "udp"}, {"hostPort": 9000, "containerPort": 90, "protocol": "sctp"}, {"hostPort": 8443, "containerPort": 443, "hostIP": "192.0.2.1"}, {"hostPort": 8444, "containerPort": 444, "hostIP": "2001:db8:1::1"}]}}"#,
            #"{"cniVersion": "1.0.0", "name": "net", "markMasqBit": 5, "conditionsV4": ["-i", "eth0+", "!", "-s", "203.0.113.0/25"], "conditionsV6": ["!", "-i", "lo", "-s", "2001:db8:ffff::/48"], "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}"#,
            #"{"cniVersion": "1.0.0", "name": "net", "externalSetMarkChain": "KUBE-MARK-MASQ", "snat": true, "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}"#,
        ]
        let address = family == .ipv4 ? IPNetwork("10.88.0.5/16")! : IPNetwork("2001:db8:89::5/64")!
        var count = 0
        for json in configs {
            let plan = IPTablesPlanner.plan(try Self.config(json), containerID: "ctr", container: address)
            for rule in (plan.chains + plan.rawChains).flatMap({ $0.rules + $0.entryRules }) {
                let encoded = try RuleExpressions.encode(rule, family: family)
                #expect(RuleExpressions.decode(encoded.expressions, family: family) == rule, "\(rule.saveLine(chain: "X"))")
                #expect(RuleExpressions.targetName(of: encoded.expressions) == rule.target.targetName)
                count += 1
            }
        }
        #expect(count > 20)
    }

    /// iptables-nft loads only a prefix's whole bytes when the mask ends on a byte, else the
    /// whole address and a bitwise mask; a /0 is no expression at all.
    @Test func addressesTakeIPTablesNFTsForms() throws {
        func expressions(_ source: String) throws -> [NftExpression] {
            let network = IPNetwork(source)!
            let rule = IPTablesRule(source: Inverted(network), target: .verdict("ACCEPT"))
            return Array(try RuleExpressions.encode(rule, family: network.family).expressions.dropLast(2))
        }
        let network = NftConstants.payloadNetworkHeader
        let register = NftConstants.register(0)
        let equal = NftConstants.compareEqual
        #expect(
            try expressions("10.0.0.0/16") == [
                .payload(base: network, offset: 12, length: 2, into: register), .compare(register: register, operation: equal, data: [10, 0]),
            ])
        #expect(
            try expressions("127.0.0.1/32") == [
                .payload(base: network, offset: 12, length: 4, into: register), .compare(register: register, operation: equal, data: [127, 0, 0, 1]),
            ])
        #expect(
            try expressions("10.16.0.0/12") == [
                .payload(base: network, offset: 12, length: 4, into: register),
                .bitwise(register: register, length: 4, mask: [0xFF, 0xF0, 0, 0], xor: [0, 0, 0, 0]),
                .compare(register: register, operation: equal, data: [10, 16, 0, 0]),
            ])
        #expect(try expressions("2001:db8::/64").first == .payload(base: network, offset: 8, length: 8, into: register))
        #expect(try expressions("2001:db8::/127").count == 3)
        #expect(try expressions("0.0.0.0/0").isEmpty)
    }

    /// An exact interface name is compared with its NUL, a wildcard without; `!` is a `neq`.
    @Test func interfacesTakeIPTablesNFTsForms() throws {
        func comparison(_ name: String, inverted: Bool = false) throws -> NftExpression {
            let rule = IPTablesRule(inInterface: Inverted(name, inverted), target: .verdict("ACCEPT"))
            return try RuleExpressions.encode(rule, family: .ipv4).expressions[1]
        }
        let register = NftConstants.register(0)
        #expect(try comparison("eth0") == .compare(register: register, operation: NftConstants.compareEqual, data: Array("eth0".utf8) + [0]))
        #expect(try comparison("eth+") == .compare(register: register, operation: NftConstants.compareEqual, data: Array("eth".utf8)))
        #expect(try comparison("lo", inverted: true) == .compare(register: register, operation: NftConstants.compareNotEqual, data: [0x6C, 0x6F, 0]))
    }

    /// What iptables-nft-restore 1.8.9 sent for `-A CNI-HOSTPORT-MASQ -m mark --mark
    /// 0x2000/0x2000 -j MASQUERADE` (captured with Fixtures/capture_netlink.c), byte for byte but
    /// its sequence number.
    @Test func masqueradeRuleIsTheCapturedMessage() throws {
        let captured = hex(
            "54010000060a010c0d0000000000000002000000080001006e61740016000200434e492d484f5354504f52542d4d4153510000000c01048024000180090001006d657461000000001400028008000200000000030800010000000001440001800c0001006269747769736500340002800800010000000001080002000000000108000300000000040c00048008000100002000000c00058008000100000000002c00018008000100636d700020000280080001000000000108000200000000000c00038008000100002000002c0001800c000100636f756e746572001c0002800c00010000000000000000000c0002000000000000000000480001800b0001007461726765740000380002800f0001004d415351554552414445000008000200000000001c0003000100000000000000000000000000000000000000000000001400058008000100000000000800020000000000"
        )
        let rule = IPTablesRule(matches: [.mark(value: 0x2000, mask: 0x2000)], target: .masquerade)
        let encoded = try RuleExpressions.encode(rule, family: .ipv4)
        var ours = NftMessages.newRule(
            NftRule(table: "nat", chain: "CNI-HOSTPORT-MASQ", expressions: encoded.expressions, compat: encoded.compat),
            family: .ipv4, flags: [.create, .append])
        ours.replaceSubrange(8..<12, with: captured[8..<12])
        #expect(ours == captured)
    }

    /// Expressions no iptables-nft rule of the layout has (a `fib`, a lookup) decode to a rule
    /// that equals no planned one, naming what was found.
    @Test func foreignExpressionsNeverMatchAPlannedRule() throws {
        let planned = IPTablesRule(matches: [.destinationTypeLocal], target: .jump("CNI-HOSTPORT-DNAT"))
        var expressions = try RuleExpressions.encode(planned, family: .ipv4).expressions
        expressions.insert(.fib(flags: 0, result: 0, into: 1), at: 0)
        let decoded = RuleExpressions.decode(expressions, family: .ipv4)
        #expect(decoded != planned)
        #expect(decoded.matches.contains(.other(name: "nft:fib", revision: 0, data: [])))
        #expect(decoded.target == planned.target)
    }
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit).utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}
