import Testing

@testable import PortmapCore

/// A field given twice is decoded as Go's encoding/json decodes it, into the value the first one
/// left (issue 13, finding 4): the Go plugin maps what these configs say, so we must too.
struct GoDecodingTests {
    static let prev = #""prevResult": {"cniVersion": "1.0.0", "ips": [{"address": "10.88.0.5/24"}]}"#

    static func config(_ members: String) throws -> PortMapConfig {
        try decodeConfig(#"{"cniVersion": "1.0.0", "name": "net1", \#(members), \#(prev)}"#)
    }

    /// The issue's config: the second spelling of runtimeConfig decodes into the first mapping,
    /// which keeps its containerPort and protocol.
    @Test func aSecondRuntimeConfigDecodesIntoTheFirst() throws {
        let config = try Self.config(
            #"""
            "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp"}]},
            "RuntimeConfig": {"portMappings": [{"hostPort": 8080}]}
            """#)
        #expect(config.portMappings == [PortMapping(hostPort: 8080, containerPort: 80, protocol: .udp)])
    }

    /// Arrays are decoded element by element into the earlier elements and take the new length:
    /// an element past the earlier ones starts empty, the earlier ones past the new length go.
    @Test func arraysDecodeElementByElementAndTakeTheNewLength() throws {
        let longer = try Self.config(
            #"""
            "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "udp", "hostIP": "192.0.2.1"}]},
            "runtimeConfig": {"portMappings": [{"hostPort": 9090}, {"hostPort": 9091, "containerPort": 91}]}
            """#)
        #expect(
            longer.portMappings == [
                PortMapping(hostPort: 9090, containerPort: 80, protocol: .udp, hostIP: IPAddress("192.0.2.1")),
                PortMapping(hostPort: 9091, containerPort: 91),
            ])
        let shorter = try Self.config(
            #"""
            "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}, {"hostPort": 8081, "containerPort": 81}]},
            "runtimeConfig": {"portMappings": [{"containerPort": 82}]}
            """#)
        #expect(shorter.portMappings == [PortMapping(hostPort: 8080, containerPort: 82)])
        // A null element leaves the string decoded there before.
        let conditions = try Self.config(#""conditionsV4": ["-s", "192.0.2.0/24"], "ConditionsV4": ["-d", null]"#)
        #expect(conditions.conditionsV4 == (try Self.config(#""conditionsV4": ["-d", "192.0.2.0/24"]"#).conditionsV4))
    }

    /// A new element decoded from `null` is Go's zero value: an empty mapping (refused for its
    /// missing ports, as Go refuses port 0), an empty condition token.
    @Test func aNullElementIsTheZeroValue() {
        for (members, message) in [
            (#""runtimeConfig": {"portMappings": [null]}"#, "runtimeConfig.portMappings[0].hostPort: is required"),
            (#""conditionsV4": [null]"#, #"conditionsV4[0]: """#),
        ] {
            #expect {
                _ = try Self.config(members)
            } throws: { error in
                (error as? CNIError)?.code == .invalidNetworkConfig && (error as? CNIError)?.msg.hasPrefix(message) == true
            }
        }
    }

    /// `null` clears what a pointer, slice or map held (snat falls back to its default) and leaves
    /// a plain boolean or string as it was.
    @Test func nullClearsOptionalFieldsAndLeavesPlainOnes() throws {
        let config = try Self.config(
            #"""
            "snat": false, "SNAT": null, "masqAll": true, "masqAll": null, "markMasqBit": 5, "markMasqBit": null,
            "conditionsV4": ["-s", "192.0.2.0/24"], "conditionsV4": null, "name": null,
            "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}, "runtimeConfig": null
            """#)
        #expect(config.snat && config.masqAll && config.markMasqBit == PortMapConfig.defaultMarkMasqBit)
        #expect(config.conditionsV4 == RuleConditions())
        #expect(config.name == "net1")
        #expect(config.portMappings == [PortMapping(hostPort: 8080, containerPort: 80)])
        let cleared = try Self.config(#""runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}, "runtimeConfig": {"portMappings": null}"#)
        #expect(cleared.portMappings.isEmpty && !cleared.listsMappings)
    }

    /// prevResult is a map to Go: a second one adds its keys and replaces the ones it repeats.
    @Test func aSecondPrevResultAddsItsKeys() throws {
        let config = try decodeConfig(
            #"""
            {"cniVersion": "1.0.0", "name": "net1",
             "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/x"}], "ips": [{"address": "10.88.0.9/24"}]},
             "prevResult": {"ips": [{"address": "10.88.0.5/24", "interface": 0}]}}
            """#)
        #expect(config.prevResult?.containerAddresses(ifName: "eth0") == [.ipv4: IPNetwork("10.88.0.5/24")!])
        #expect(config.prevResult?.containerAddresses(ifName: "eth1") == [:])
    }

    /// A value of the wrong kind fails the decoding even when a later spelling is right, as Go's
    /// does (it reads on, then returns the first such error).
    @Test(arguments: [
        (
            #""runtimeConfig": {"portMappings": [{"hostPort": "8080", "containerPort": 80}]}, "runtimeConfig": {"portMappings": [{"hostPort": 8080}]}"#,
            "runtimeConfig.portMappings[0].hostPort: expected an integer"
        ),
        (#""snat": "no", "snat": false"#, "snat: expected true or false"),
        (#""markMasqBit": 1.5, "markMasqBit": 5"#, "markMasqBit: expected an integer"),
    ])
    func aWrongKindStaysWrong(members: String, message: String) {
        #expect {
            _ = try Self.config(members)
        } throws: { error in
            (error as? CNIError)?.code == .decodingFailure && (error as? CNIError)?.msg.hasPrefix(message) == true
        }
    }

    /// An error answers in the version the request holds after Go's decoding: `null` leaves it.
    @Test func theErrorVersionSurvivesANull() {
        let output = PortmapPlugin(backend: PortmapPluginTests.RecordingBackend(), hostNetwork: nil, about: "")
            .run(
                environment: PortmapPluginTests.env,
                stdin: .bytes(
                    Array(
                        #"{"cniVersion": "0.3.1", "CNIVERSION": null, "name": "net1", "runtimeConfig": {"portMappings": [{"hostPort": 70000, "containerPort": 80}]}}"#
                            .utf8)))
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""cniVersion": "0.3.1""#), "\(output.stdout)")
    }
}
