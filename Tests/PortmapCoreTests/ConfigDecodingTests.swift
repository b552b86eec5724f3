import Testing

@testable import PortmapCore

/// Decoding and validation: what a runtime may send, and every way it can be wrong.
struct ConfigDecodingTests {
    static func config(version: String = "1.0.0", _ body: String) -> String {
        #"{"cniVersion": "\#(version)", "name": "net1", "type": "portmap"\#(body.isEmpty ? "" : ", " + body)}"#
    }

    static let prevResult =
        #""prevResult": {"interfaces": [{"name": "host"}, {"name": "eth0", "sandbox": "/var/run/netns/x"}], "ips": [{"address": "10.0.0.1/24", "interface": 0}, {"address": "2001:db8:1::2/64", "interface": 1}, {"address": "10.0.0.2/24", "interface": 1}]}"#

    @Test(arguments: CNIVersion.supported)
    func decodesAnAddConfigInEveryVersion(version: CNIVersion) throws {
        let config = try decodeConfig(
            Self.config(
                version: version.description,
                """
                "snat": false, "conditionsV4": ["-s", "192.0.2.0/24"], "conditionsV6": ["!", "-i", "eth1"],
                "runtimeConfig": {"portMappings": [
                  {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                  {"hostPort": 8081, "containerPort": 81, "protocol": "UDP", "hostIP": "192.0.2.1"}]},
                \(Self.prevResult)
                """))
        #expect(config.cniVersion == version)
        #expect(config.name == "net1")
        #expect(config.snat == false)
        #expect(config.markMasqBit == 13)
        #expect(config.conditionsV4 == RuleConditions(source: Inverted(IPNetwork("192.0.2.0/24")!)))
        #expect(config.conditionsV6 == RuleConditions(inInterface: Inverted("eth1", true)))
        #expect(
            config.portMappings == [
                PortMapping(hostPort: 8080, containerPort: 80, protocol: .tcp),
                PortMapping(hostPort: 8081, containerPort: 81, protocol: .udp, hostIP: IPAddress("192.0.2.1"), protocolSpelling: "UDP"),
            ])
        // The first address of each family on CNI_IFNAME in the sandbox, as upstream picks it.
        #expect(
            config.prevResult?.containerAddresses(ifName: "eth0") == [
                .ipv4: IPNetwork("10.0.0.2/24")!, .ipv6: IPNetwork("2001:db8:1::2/64")!,
            ])
    }

    /// `-p` by name (any case) or number, with or without `!`; `all` is no condition.
    @Test(
        arguments: [
            (["-p", "TCP"], Inverted(TransportProtocol.tcp)),
            (["!", "--protocol", "17"], Inverted(TransportProtocol.udp, true)),
            (["-p", "all"], nil),
        ] as [([String], Inverted<TransportProtocol>?)])
    func decodesAProtocolCondition(tokens: [String], expected: Inverted<TransportProtocol>?) throws {
        let conditions = try RuleConditions(tokens: tokens, family: .ipv4, field: "conditionsV4")
        #expect(conditions == RuleConditions(transport: expected))
    }

    @Test(arguments: CNIVersion.supported)
    func decodesADelConfigWithoutRuntimeConfigOrPrevResult(version: CNIVersion) throws {
        let config = try decodeConfig(Self.config(version: version.description, #""snat": true"#))
        #expect(config.portMappings.isEmpty)
        #expect(config.prevResult == nil)
        #expect(config.snat)
    }

    /// GC's lists: the SPEC's key and the legacy one libcni sends beside it, merged in order.
    @Test func decodesTheAttachmentListsUnderBothKeys() throws {
        let config = try decodeConfig(
            Self.config(
                version: "1.1.0",
                """
                "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}, {"containerID": "b", "ifname": "net1"}],
                "cni.dev/attachments": [{"containerID": "b", "ifname": "net1"}, {"containerID": "c"}]
                """))
        #expect(
            config.validAttachments == [
                GCAttachment(containerID: "a", ifName: "eth0"), GCAttachment(containerID: "b", ifName: "net1"),
                GCAttachment(containerID: "c", ifName: ""),
            ])
        let legacyOnly = try decodeConfig(Self.config(version: "1.1.0", #""cni.dev/attachments": [{"containerID": "x", "ifname": "eth0"}]"#))
        #expect(legacyOnly.validAttachments == [GCAttachment(containerID: "x", ifName: "eth0")])
    }

    /// No list is nil (GC refuses it); `null` and `[]` are an empty list (GC keeps nothing).
    @Test(arguments: [("", nil), (#""cni.dev/valid-attachments": null"#, []), (#""cni.dev/attachments": []"#, [])] as [(String, [GCAttachment]?)])
    func decodesAbsentAndEmptyAttachmentLists(body: String, expected: [GCAttachment]?) throws {
        #expect(try decodeConfig(Self.config(version: "1.1.0", body)).validAttachments == expected)
    }

    @Test func missingInterfaceIndexStillSelectsTheAddress() throws {
        let config = try decodeConfig(Self.config(#""prevResult": {"interfaces": [{"name": "host"}], "ips": [{"address": "10.0.0.1/24"}]}"#))
        #expect(config.prevResult?.containerAddresses(ifName: "eth0") == [.ipv4: IPNetwork("10.0.0.1/24")!])
    }

    @Test func protocolDefaultsToTCP() throws {
        let config = try decodeConfig(Self.config(#""runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 8080}]}"#))
        #expect(config.portMappings.first?.protocol == .tcp)
    }

    /// `iptablesStore` forces one of the iptables backend's stores; absent, none is forced.
    @Test(arguments: [("", nil), (#""iptablesStore": "legacy""#, IPTablesStoreName.legacy), (#""iptablesStore": "nft""#, .nft)] as [(String, IPTablesStoreName?)])
    func decodesTheIPTablesStore(body: String, expected: IPTablesStoreName?) throws {
        #expect(try decodeConfig(Self.config(body)).iptablesStore == expected)
    }

    struct Rejection: Sendable, CustomTestStringConvertible {
        let body: String
        let code: CNIError.Code
        let mentions: String
        var testDescription: String { "\(mentions) → \(code.rawValue)" }
    }

    static func mapping(_ fields: String) -> String {
        #""runtimeConfig": {"portMappings": [{\#(fields)}]}"#
    }

    @Test(arguments: [
        Rejection(body: #""snat": "yes""#, code: .decodingFailure, mentions: "snat"),
        Rejection(body: #""localnetGuard": 1"#, code: .decodingFailure, mentions: "localnetGuard"),
        Rejection(body: mapping(#""hostPort": "80", "containerPort": 80"#), code: .decodingFailure, mentions: "runtimeConfig.portMappings[0].hostPort"),
        Rejection(body: mapping(#""hostPort": 80.5, "containerPort": 80"#), code: .decodingFailure, mentions: "hostPort"),
        Rejection(body: #""runtimeConfig": {"portMappings": {"hostPort": 80}}"#, code: .decodingFailure, mentions: "portMappings"),
        Rejection(body: #""conditionsV4": "-s 1.2.3.4""#, code: .decodingFailure, mentions: "conditionsV4"),
        Rejection(body: #""prevResult": {"ips": [{"address": "10.0.0.300/24"}]}"#, code: .decodingFailure, mentions: "prevResult.ips[0].address"),
        Rejection(body: mapping(#""hostPort": 0, "containerPort": 80"#), code: .invalidNetworkConfig, mentions: "0 is not a port number"),
        Rejection(body: mapping(#""hostPort": 65536, "containerPort": 80"#), code: .invalidNetworkConfig, mentions: "65536"),
        Rejection(body: mapping(#""hostPort": 123456789012345678901234567890, "containerPort": 80"#), code: .invalidNetworkConfig, mentions: "out of range"),
        Rejection(body: mapping(#""hostPort": 80, "containerPort": 0"#), code: .invalidNetworkConfig, mentions: "containerPort"),
        Rejection(body: mapping(#""hostPort": 80"#), code: .invalidNetworkConfig, mentions: "containerPort: is required"),
        Rejection(body: mapping(#""hostPort": 80, "containerPort": 80, "protocol": "icmp""#), code: .invalidNetworkConfig, mentions: "\"icmp\""),
        Rejection(body: mapping(#""hostPort": 80, "containerPort": 80, "hostIP": "1.2.3""#), code: .invalidNetworkConfig, mentions: "\"1.2.3\""),
        Rejection(body: mapping(#""hostPort": 80, "containerPort": 80, "hostIP": "01.2.3.4""#), code: .invalidNetworkConfig, mentions: "01.2.3.4"),
        Rejection(
            body: #""runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80}, {"hostPort": 80, "containerPort": 81, "protocol": "TCP"}]}"#,
            code: .invalidNetworkConfig, mentions: "duplicates portMappings[0]"),
        Rejection(
            body: #""runtimeConfig": {"portMappings": [{"hostPort": 80, "containerPort": 80}, {"hostPort": 80, "containerPort": 81, "hostIP": "0.0.0.0"}]}"#,
            code: .invalidNetworkConfig, mentions: "all IPv4 addresses"),
        Rejection(body: #""markMasqBit": 32"#, code: .invalidNetworkConfig, mentions: "markMasqBit"),
        Rejection(body: #""markMasqBit": 5, "externalSetMarkChain": "KUBE-MARK-MASQ""#, code: .invalidNetworkConfig, mentions: "externalSetMarkChain"),
        Rejection(body: #""externalSetMarkChain": "A-CHAIN-NAME-LONGER-THAN-28-CHARS""#, code: .invalidNetworkConfig, mentions: "1-28 characters"),
        Rejection(body: #""conditionsV4": ["-m", "foo"]"#, code: .invalidNetworkConfig, mentions: "conditionsV4[0]"),
        Rejection(body: #""conditionsV4": ["-s", "example.com"]"#, code: .invalidNetworkConfig, mentions: "hostnames"),
        Rejection(body: #""conditionsV4": ["-s", "2001:db8::1"]"#, code: .invalidNetworkConfig, mentions: "not an IPv4"),
        Rejection(body: #""conditionsV4": ["-s", "10.0.0.0/8", "--source", "10.1.0.0/16"]"#, code: .invalidNetworkConfig, mentions: "given twice"),
        Rejection(body: #""conditionsV4": ["-p", "icmp"]"#, code: .invalidNetworkConfig, mentions: "conditionsV4[0]"),
        Rejection(body: #""conditionsV6": ["!", "-p", "all"]"#, code: .invalidNetworkConfig, mentions: "no traffic"),
        Rejection(body: #""conditionsV4": ["-p", "tcp", "--protocol", "udp"]"#, code: .invalidNetworkConfig, mentions: "given twice"),
        Rejection(body: #""conditionsV6": ["!"]"#, code: .invalidNetworkConfig, mentions: "conditionsV6[0]"),
        Rejection(body: #""conditionsV6": ["-i"]"#, code: .invalidNetworkConfig, mentions: "needs a value"),
        Rejection(body: #""cni.dev/valid-attachments": {"containerID": "a"}"#, code: .decodingFailure, mentions: "cni.dev/valid-attachments: expected an array"),
        Rejection(body: #""cni.dev/attachments": "a""#, code: .decodingFailure, mentions: "cni.dev/attachments: expected an array"),
        Rejection(body: #""cni.dev/valid-attachments": ["a"]"#, code: .decodingFailure, mentions: "cni.dev/valid-attachments[0]: expected an object"),
        Rejection(
            body: #""cni.dev/valid-attachments": [{"containerID": "a"}, {"containerID": 7}]"#, code: .decodingFailure,
            mentions: "cni.dev/valid-attachments[1].containerID"),
        Rejection(body: #""cni.dev/attachments": [{"containerID": "a", "ifname": 0}]"#, code: .decodingFailure, mentions: "cni.dev/attachments[0].ifname"),
        Rejection(
            body: #""cni.dev/valid-attachments": [{"ifname": "eth0"}]"#, code: .invalidNetworkConfig, mentions: "cni.dev/valid-attachments[0].containerID: is required"),
        Rejection(body: #""cni.dev/valid-attachments": [{"containerID": "bad id"}]"#, code: .invalidNetworkConfig, mentions: "\"bad id\" is not a container ID"),
        Rejection(body: #""backend": "nftables", "markMasqBit": 14"#, code: .invalidNetworkConfig, mentions: "markMasqBit: is an option of the iptables backend"),
        Rejection(
            body: #""backend": "nftables", "externalSetMarkChain": "KUBE-MARK-MASQ""#, code: .invalidNetworkConfig,
            mentions: "externalSetMarkChain: is an option of the iptables backend"),
        Rejection(body: #""backend": "nftables", "conditionsV4": []"#, code: .invalidNetworkConfig, mentions: "conditionsV4: is an option of the iptables backend"),
        Rejection(body: #""backend": "nftables", "conditionsV6": ["-i", "eth0"]"#, code: .invalidNetworkConfig, mentions: "conditionsV6"),
        Rejection(body: #""backend": "nftables", "localnetGuard": false"#, code: .invalidNetworkConfig, mentions: "always guards 127.0.0.0/8"),
        Rejection(body: #""backend": "bogus""#, code: .invalidNetworkConfig, mentions: "bogus"),
        Rejection(body: #""iptablesStore": "nftables""#, code: .invalidNetworkConfig, mentions: #"iptablesStore: "nftables" is not a store: "legacy" or "nft""#),
        Rejection(body: #""iptablesStore": 1"#, code: .decodingFailure, mentions: "iptablesStore"),
        Rejection(body: #""backend": "nftables", "iptablesStore": "nft""#, code: .invalidNetworkConfig, mentions: "the nftables backend keeps its own table"),
    ])
    func rejects(_ rejection: Rejection) {
        #expect {
            _ = try decodeConfig(Self.config(rejection.body))
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            return error.code == rejection.code && error.msg.contains(rejection.mentions)
        }
    }

    @Test(arguments: [
        (#"{"name": "n"}"#, CNIError.Code.incompatibleCNIVersion),
        (#"{"cniVersion": "9.9.9", "name": "n"}"#, .incompatibleCNIVersion),
        (#"{"cniVersion": "0.2.0", "name": "n"}"#, .incompatibleCNIVersion),
        (#"{"cniVersion": "one", "name": "n"}"#, .incompatibleCNIVersion),
        (#"{"cniVersion": "1.0.0"}"#, .invalidNetworkConfig),
        (#"{"cniVersion": "1.0.0", "name": "bad name"}"#, .invalidNetworkConfig),
        (#"{"cniVersion": "1.0.0", "name": "n""#, .decodingFailure),
        (#"["cniVersion"]"#, .decodingFailure),
        ("not json", .decodingFailure),
        ("", .decodingFailure),
    ])
    func rejectsTheEnvelope(json: String, code: CNIError.Code) {
        #expect {
            _ = try decodeConfig(json)
        } throws: { ($0 as? CNIError)?.code == code }
    }
}
