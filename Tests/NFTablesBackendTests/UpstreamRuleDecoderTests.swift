import Nftnl
import PortmapCore
import Snapshots
import Testing

@testable import NFTablesBackend

/// Upstream's rules as the kernel returns them (`nft --debug=netlink list table ip cni_hostport`
/// after upstream's ADD of 10.88.0.5 with 8080/tcp, 8443/tcp on 192.0.2.1, and snat), decoded.
struct UpstreamRuleDecoderTests {
    static let register1 = UInt32(1), register2 = UInt32(2)
    static let network = NftConstants.payloadNetworkHeader, transport = NftConstants.payloadTransportHeader

    static func rule(_ chain: String, _ expressions: [NftExpression]) -> NftRule {
        var rule = NftRule(table: "cni_hostport", chain: chain, expressions: expressions)
        rule.comment = "upc1"
        return rule
    }

    static let dnat: [NftExpression] = [
        .meta(key: NftConstants.metaL4Protocol, into: register1), .compare(register: register1, operation: NftConstants.compareEqual, data: [6]),
        .payload(base: transport, offset: 2, length: 2, into: register1),
        .compare(register: register1, operation: NftConstants.compareEqual, data: [0x1F, 0x90]),
        .immediate(data: [10, 88, 0, 5], into: register1), .immediate(data: [0, 80], into: register2),
        .dnat(family: NftConstants.ipv4, address: register1, port: register2),
    ]

    @Test func dnatOnEveryAddress() {
        let decoded = UpstreamRuleDecoder.decode(Self.rule("hostports", Self.dnat), family: .ipv4)
        #expect(decoded.action == .dnat(.tcp, hostIP: nil, hostPort: 8080, pod: IPAddress("10.88.0.5")!, podPort: 80))
        #expect(decoded.containerID == "upc1")
        #expect(decoded.text == #"tcp dport 8080 dnat to 10.88.0.5:80 comment "upc1""#)
    }

    @Test func dnatBoundToAHostIP() {
        let bound: [NftExpression] =
            [
                .payload(base: Self.network, offset: 16, length: 4, into: Self.register1),
                .compare(register: Self.register1, operation: NftConstants.compareEqual, data: [192, 0, 2, 1]),
            ] + Self.dnat
        let decoded = UpstreamRuleDecoder.decode(Self.rule("hostports", bound), family: .ipv4)
        #expect(decoded.action == .dnat(.tcp, hostIP: IPAddress("192.0.2.1")!, hostPort: 8080, pod: IPAddress("10.88.0.5")!, podPort: 80))
        #expect(decoded.text.hasPrefix("ip daddr 192.0.2.1 tcp dport 8080"))
    }

    @Test func masquerade() {
        let decoded = UpstreamRuleDecoder.decode(
            Self.rule(
                "masquerading",
                [
                    .payload(base: Self.network, offset: 12, length: 4, into: Self.register1),
                    .compare(register: Self.register1, operation: NftConstants.compareEqual, data: [127, 0, 0, 1]),
                    .payload(base: Self.network, offset: 16, length: 4, into: Self.register1),
                    .compare(register: Self.register1, operation: NftConstants.compareEqual, data: [10, 88, 0, 5]),
                    .masquerade,
                ]), family: .ipv4)
        #expect(decoded.action == .masquerade(source: IPAddress("127.0.0.1")!, pod: IPAddress("10.88.0.5")!))
    }

    /// A form upstream does not write (an inverted compare, a jump) is `.other`, with its comment.
    @Test func anotherFormIsOther() {
        let inverted = Self.dnat.map { expression -> NftExpression in
            if case .compare(let register, _, [6]) = expression { return .compare(register: register, operation: NftConstants.compareNotEqual, data: [6]) }
            return expression
        }
        #expect(UpstreamRuleDecoder.decode(Self.rule("hostports", inverted), family: .ipv4).action == .other)
        #expect(UpstreamRuleDecoder.decode(Self.rule("hostports", [.jump("elsewhere")]), family: .ipv4).action == .other)
    }
}
