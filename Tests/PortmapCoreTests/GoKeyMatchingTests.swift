import Testing

@testable import PortmapCore

/// Keys are matched as Go's encoding/json matches them (GoFieldName), so a conflist means to us
/// what it means to the Go portmap and to libcni.
struct GoKeyMatchingTests {
    @Test(arguments: [
        ("snat", "snat", true), ("SNAT", "snat", true), ("sNaT", "snat", true),
        ("\u{017F}nat", "snat", true),  // long s for s
        ("mar\u{212A}MasqBit", "markMasqBit", true),  // Kelvin sign for k
        ("HOSTIP", "hostIP", true), ("conditionsv4", "conditionsV4", true),
        ("CNI.DEV/Valid-Attachments", "cni.dev/valid-attachments", true),
        ("snat ", "snat", false), ("sna", "snat", false), ("snatt", "snat", false), ("s_at", "snat", false),
        ("host\u{0130}P", "hostIP", false),  // dotted capital I: no simple fold to i or I
        ("host\u{0131}P", "hostIP", false),  // dotless i
        ("conditionsV6", "conditionsV4", false), ("cni.dev/valid_attachments", "cni.dev/valid-attachments", false),
    ])
    func matchesAsGoDoes(key: String, name: String, matches: Bool) {
        #expect(GoFieldName.matches(key, name) == matches)
    }

    static let canonical = #"""
        {"cniVersion": "1.0.0", "name": "net1", "snat": false, "masqAll": true, "markMasqBit": 5,
         "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp", "hostIP": "192.0.2.1"}]},
         "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/p"}],
                        "ips": [{"address": "10.88.0.5/24", "interface": 0}]}}
        """#

    static let otherCases = #"""
        {"CNIVersion": "1.0.0", "Name": "net1", "SNAT": false, "MASQALL": true, "MarkMasqBit": 5,
         "RuntimeConfig": {"PortMappings": [{"HostPort": 8080, "containerport": 80, "Protocol": "udp", "hostip": "192.0.2.1"}]},
         "PrevResult": {"cniVersion": "1.0.0", "Interfaces": [{"Name": "eth0", "SandBox": "/var/run/netns/p"}],
                        "IPs": [{"Address": "10.88.0.5/24", "Interface": 0}]}}
        """#

    @Test func keysInOtherCasesDecodeAlike() throws {
        let config = try decodeConfig(Self.otherCases)
        let reference = try decodeConfig(Self.canonical)
        #expect(config.snat == false && config.masqAll && config.markMasqBit == 5)
        #expect(config.portMappings == reference.portMappings)
        #expect(config.prevResult?.containerAddresses(ifName: "eth0") == [.ipv4: IPNetwork("10.88.0.5/24")!])
        #expect(config.name == reference.name && config.cniVersion == reference.cniVersion)
    }

    /// Of several spellings of one key, the last counts, as for an exact duplicate.
    @Test(arguments: [(#""snat": false, "SNAT": true"#, true), (#""SNAT": true, "snat": false"#, false), (#""Snat": false, "sNAT": null"#, true)])
    func theLastSpellingCounts(members: String, snat: Bool) throws {
        let config = try decodeConfig(#"{"cniVersion": "1.0.0", "name": "net1", \#(members)}"#)
        #expect(config.snat == snat)
    }

    @Test func anIPTablesOnlyKeyInAnotherCaseIsRefusedWithNFTables() {
        #expect {
            _ = try decodeConfig(#"{"cniVersion": "1.0.0", "name": "net1", "backend": "nftables", "MARKMASQBIT": null}"#)
        } throws: { error in
            (error as? CNIError)?.code == .invalidNetworkConfig && (error as? CNIError)?.msg.hasPrefix("markMasqBit: is an option of the iptables backend") == true
        }
    }

    @Test func gcAttachmentsUnderAnotherCase() throws {
        let config = try decodeConfig(#"{"cniVersion": "1.1.0", "name": "net1", "CNI.dev/Valid-Attachments": [{"ContainerID": "a", "IfName": "eth0"}]}"#)
        #expect(config.validAttachments == [GCAttachment(containerID: "a", ifName: "eth0")])
    }

    /// The result is written under the SPEC's names, as Go writes its structs: one `cniVersion`,
    /// one `ips`, each IP's `version` present before 1.0.0 and gone from 1.0.0 on.
    @Test(arguments: [("0.4.0", true), ("1.0.0", false)])
    func theResultUsesTheSPECNames(version: String, hasIPVersion: Bool) throws {
        let prev = #"{"CNIVersion": "0.4.0", "IPs": [{"Version": "4", "Address": "10.88.0.5/24"}], "dns": {}}"#
        guard case .object(let object) = try JSONParser.parse(Array(prev.utf8)) else { throw CNIError(.decodingFailure, "") }
        let result = try CNIResult(object, path: "prevResult").converted(to: CNIVersion(version)!)
        #expect(result.keys == ["cniVersion", "ips", "dns"])
        #expect(result["cniVersion"] == .string(version))
        guard case .array(let ips)? = result["ips"], case .object(let ip)? = ips.first else {
            Issue.record("no ips in \(result)")
            return
        }
        #expect(ip.keys == (hasIPVersion ? ["version", "Address"] : ["Address"]))
    }
}
