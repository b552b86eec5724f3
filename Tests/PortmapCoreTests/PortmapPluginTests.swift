import Testing

@testable import PortmapCore

/// The verb dispatcher with a recording backend: what reaches the backend, what is printed.
struct PortmapPluginTests {
    final class RecordingBackend: PortMapBackend, @unchecked Sendable {
        var calls: [(String, PortMapRequest)] = []
        var gcCalls: [(network: String, attachments: [GCAttachment])] = []
        var statusCalls: [PortMapConfig] = []
        var failure: BackendError?
        /// What each verb that changes the kernel answers on success.
        var warnings: [String] = []

        func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
            try record("add", request)
            return warnings
        }
        func check(_ request: PortMapRequest) throws(BackendError) { try record("check", request) }
        func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
            try record("delete", request)
            return warnings
        }

        func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
            gcCalls.append((network, validAttachments))
            if let failure { throw failure }
            return warnings
        }

        func status(_ config: PortMapConfig) throws(BackendError) {
            statusCalls.append(config)
            if let failure { throw failure }
        }

        private func record(_ verb: String, _ request: PortMapRequest) throws(BackendError) {
            calls.append((verb, request))
            if let failure { throw failure }
        }
    }

    /// Records conntrack and route_localnet requests, each with how many backend calls came before.
    final class RecordingHostNetwork: HostNetwork, @unchecked Sendable {
        let backend: RecordingBackend
        var events: [String] = []
        var failure: HostNetworkError?

        init(_ backend: RecordingBackend) { self.backend = backend }

        func flushUDPConntrack(family: IPFamily, destinations: [ConntrackDestination]) throws(HostNetworkError) -> Int {
            let targets = destinations.map { "\($0.address?.description ?? "*"):\($0.port)" }.joined(separator: ",")
            events.append("flush \(family) \(targets) after \(backend.calls.count)")
            if let failure { throw failure }
            return destinations.count
        }

        func enableLocalnetRouting(toward container: IPAddress) throws(HostNetworkError) -> String? {
            events.append("localnet \(container) after \(backend.calls.count)")
            if let failure { throw failure }
            return "cni0"
        }
    }

    static let env = CNIEnvironmentTests.add
    static func stdin(version: String = "1.0.0", mappings: String = #"[{"hostPort": 8080, "containerPort": 80}]"#, prev: Bool = true) -> [UInt8] {
        let prevResult =
            prev
            ? #", "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/p", "mac": "aa:bb:cc:dd:ee:ff"}], "ips": [{"address": "10.88.0.5/24", "interface": 0, "gateway": "10.88.0.1"}], "routes": [{"dst": "0.0.0.0/0"}], "dns": {}}"#
            : ""
        return Array(#"{"cniVersion": "\#(version)", "name": "net1", "runtimeConfig": {"portMappings": \#(mappings)}\#(prevResult)}"#.utf8)
    }

    func run(_ env: [String: String], _ stdin: [UInt8], _ backend: RecordingBackend = RecordingBackend()) -> PluginOutput {
        PortmapPlugin(backend: backend, hostNetwork: nil, about: "about").run(environment: env, stdin: .bytes(stdin))
    }

    @Test func addPassesPrevResultThroughInTheRequestVersion() {
        let backend = RecordingBackend()
        let output = run(Self.env, Self.stdin(), backend)
        #expect(output.exitCode == 0)
        #expect(output.stderr.isEmpty)
        #expect(
            output.stdout == """
                {
                    "cniVersion": "1.0.0",
                    "interfaces": [
                        {
                            "name": "eth0",
                            "sandbox": "/var/run/netns/p",
                            "mac": "aa:bb:cc:dd:ee:ff"
                        }
                    ],
                    "ips": [
                        {
                            "address": "10.88.0.5/24",
                            "interface": 0,
                            "gateway": "10.88.0.1"
                        }
                    ],
                    "routes": [
                        {
                            "dst": "0.0.0.0/0"
                        }
                    ],
                    "dns": {}
                }
                """)
        #expect(backend.calls.map(\.0) == ["add"])
        #expect(backend.calls.first?.1.containerAddresses == [.ipv4: IPNetwork("10.88.0.5/24")!])
        #expect(backend.calls.first?.1.containerID == "abc-1.2_3")
    }

    /// Results before 1.0.0 carry `"version"` on each IP; from 1.0.0 on they must not.
    @Test(arguments: [("0.3.0", true), ("0.3.1", true), ("0.4.0", true), ("1.0.0", false), ("1.1.0", false)])
    func convertsTheResultVersion(version: String, hasIPVersion: Bool) throws {
        let output = run(Self.env, Self.stdin(version: version))
        guard case .object(let result) = try JSONParser.parse(Array(output.stdout.utf8)),
            case .array(let ips)? = result["ips"], case .object(let ip)? = ips.first
        else {
            Issue.record("no ips in \(output.stdout)")
            return
        }
        #expect(result["cniVersion"] == .string(version))
        #expect(ip["version"] == (hasIPVersion ? .string("4") : nil))
    }

    /// The error object a failed run printed, with exit status 1.
    static func errorObject(_ output: PluginOutput) throws -> JSONObject {
        #expect(output.exitCode == 1)
        guard case .object(let error) = try JSONParser.parse(Array(output.stdout.utf8)) else {
            throw CNIError(.decodingFailure, "not an error object", details: output.stdout)
        }
        return error
    }

    @Test func unreadableStdinIsCode5WithTheReason() throws {
        let backend = RecordingBackend()
        let error = try Self.errorObject(
            PortmapPlugin(backend: backend, hostNetwork: nil, about: "about")
                .run(environment: Self.env, stdin: .unreadable(reason: "Input/output error")))
        #expect(error["code"] == .number(JSONNumber(literal: "5")))
        #expect(error["msg"] == .string("cannot read the network configuration from stdin"))
        #expect(error["details"] == .string("Input/output error"))
        #expect(backend.calls.isEmpty)
    }

    /// Refused before anything is decoded: no backend call, whatever the verb.
    @Test(arguments: ["ADD", "CHECK", "DEL", "GC", "STATUS"])
    func oversizedStdinIsCode6(command: String) throws {
        let backend = RecordingBackend()
        var env = Self.env
        env["CNI_COMMAND"] = command
        let error = try Self.errorObject(PortmapPlugin(backend: backend, hostNetwork: nil, about: "about").run(environment: env, stdin: .oversized))
        #expect(error["code"] == .number(JSONNumber(literal: "6")))
        #expect(error["msg"] == .string("the network configuration on stdin is longer than 16777216 bytes"))
        #expect(backend.calls.isEmpty)
    }

    @Test func noMappingsTouchesNoBackend() {
        let backend = RecordingBackend()
        for command in ["ADD", "CHECK", "DEL"] {
            var env = Self.env
            env["CNI_COMMAND"] = command
            #expect(run(env, Self.stdin(mappings: "[]"), backend).exitCode == 0)
        }
        #expect(backend.calls.isEmpty)
    }

    @Test func delWorksWithoutPrevResult() {
        let backend = RecordingBackend()
        var env = Self.env
        env["CNI_COMMAND"] = "DEL"
        let output = run(env, Self.stdin(prev: false), backend)
        #expect(output == PluginOutput())
        #expect(backend.calls.map(\.0) == ["delete"])
        #expect(backend.calls.first?.1.containerAddresses == [:])
    }

    /// Configs the Go plugin accepted but ADD refuses (issue 13, finding 2): DEL still removes
    /// the container by network and container ID, says why on stderr, and ADD and CHECK refuse.
    @Test(arguments: [
        #"[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}, {"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "0.0.0.0"}]"#,
        #"[{"hostPort": 70000, "containerPort": 80}]"#,
        #"[{"hostPort": 8080, "containerPort": 80, "protocol": "icmp"}, "not a mapping"]"#,
    ])
    func delRemovesWhatAddWouldRefuse(mappings: String) throws {
        let backend = RecordingBackend()
        var env = Self.env
        env["CNI_COMMAND"] = "DEL"
        let output = run(env, Self.stdin(mappings: mappings), backend)
        #expect(output.exitCode == 0, "\(output.stdout)")
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.hasPrefix("portmap: warning: DEL of a config ADD would refuse (runtimeConfig.portMappings["), "\(output.stderr)")
        #expect(backend.calls.map(\.0) == ["delete"])
        #expect(backend.calls.first?.1.config.name == "net1")
        #expect(backend.calls.first?.1.containerID == "abc-1.2_3")
        for command in ["ADD", "CHECK"] {
            env["CNI_COMMAND"] = command
            #expect(try Self.errorObject(run(env, Self.stdin(mappings: mappings), backend))["code"] == .number(JSONNumber(7)))
        }
        #expect(backend.calls.count == 1)
    }

    /// The same for options DEL does not use: an unsupported condition, a bad mark bit, a name
    /// ADD refuses (the chain is a hash of any name). A config without a name or with an unknown
    /// backend still fails: DEL could not know where to look.
    @Test(arguments: [
        (#""name": "net1", "conditionsV4": ["-m", "comment", "--comment", "x"],"#, true),
        (#""name": "net1", "markMasqBit": 99, "prevResult": 5,"#, true),
        (#""name": "bad name","#, true),
        (#""name": "net1", "backend": "nftables", "conditionsV4": ["-i", "eth0"],"#, true),
        (#""name": "net1", "backend": "ebpf","#, false),
        (#""type": "portmap","#, false),
    ])
    func delNeedsOnlyANameAndABackend(fields: String, succeeds: Bool) throws {
        let backend = RecordingBackend()
        var env = Self.env
        env["CNI_COMMAND"] = "DEL"
        let stdin = #"{"cniVersion": "1.0.0", \#(fields) "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}"#
        let output = run(env, Array(stdin.utf8), backend)
        #expect((output.exitCode == 0) == succeeds, "\(output.stdout)")
        #expect(backend.calls.map(\.0) == (succeeds ? ["delete"] : []))
    }

    /// GC reads the attachment list from a config ADD would refuse, and removes by network.
    @Test func gcRemovesWhatAddWouldRefuse() {
        let backend = RecordingBackend()
        var env = Self.env
        env["CNI_COMMAND"] = "GC"
        let stdin = #"{"cniVersion": "1.1.0", "name": "net1", "conditionsV4": ["-m", "x"], "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}]}"#
        let output = run(env, Array(stdin.utf8), backend)
        #expect(output.exitCode == 0, "\(output.stdout)")
        #expect(output.stderr.contains("GC of a config ADD would refuse (conditionsV4"), "\(output.stderr)")
        #expect(backend.gcCalls.map(\.network) == ["net1"])
        #expect(backend.gcCalls.first?.attachments == [GCAttachment(containerID: "a", ifName: "eth0")])
    }

    /// An error answers in the request's cniVersion whenever it could be read (issue 13, finding 6);
    /// with none the plugin speaks, in the newest.
    @Test(arguments: [
        (#"{"cniVersion": "0.3.1", "name": "n", "runtimeConfig": {"portMappings": [{"hostPort": 70000, "containerPort": 80}]}}"#, "0.3.1"),
        (#"{"CNIVERSION": "0.4.0", "name": "bad name"}"#, "0.4.0"),
        (#"{"cniVersion": "9.9.9", "name": "n"}"#, "1.1.0"),
        (#"{"cniVersion": "1.0.0", "#, "1.1.0"),
    ])
    func errorsCarryTheRequestVersion(stdin: String, version: String) throws {
        let error = try Self.errorObject(run(Self.env, Array(stdin.utf8)))
        #expect(error["cniVersion"] == .string(version))
    }

    @Test func checkNeedsVersion040() {
        var env = Self.env
        env["CNI_COMMAND"] = "CHECK"
        let output = run(env, Self.stdin(version: "0.3.1"))
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 1"#))
        #expect(output.stdout.contains("does not allow CHECK"))
    }

    @Test func addWithoutPrevResultIsCode7() {
        let output = run(Self.env, Self.stdin(prev: false))
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 7"#))
        #expect(output.stdout.contains("prevResult is required"))
    }

    @Test(arguments: [
        (BackendError.Kind.busy, 11), (.kernel, 100), (.checkFailed, 101), (.invalidConfig, 7),
    ])
    func backendFailuresMapToCodes(kind: BackendError.Kind, code: Int) throws {
        let backend = RecordingBackend()
        backend.failure = BackendError(kind, "what failed", details: "why")
        let output = run(Self.env, Self.stdin(), backend)
        #expect(output.exitCode == 1)
        #expect(
            try JSONParser.parse(Array(output.stdout.utf8))
                == .object(
                    JSONObject([
                        ("cniVersion", .string("1.0.0")), ("code", .number(JSONNumber(code))),
                        ("msg", .string("what failed")), ("details", .string("why")),
                    ])))
    }

    @Test func versionNeedsNoStdin() {
        let output = run(["CNI_COMMAND": "VERSION"], [])
        #expect(output.stdout == #"{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"# + "\n")
    }

    @Test func noCommandPrintsTheAboutLine() {
        let output = run([:], [])
        #expect(output.exitCode == 0)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.hasPrefix("about\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"))
    }

    // MARK: - Host network: route_localnet before the rules, UDP conntrack after ADD and DEL

    static let udpMappings =
        #"[{"hostPort": 53, "containerPort": 53, "protocol": "udp"}, {"hostPort": 5353, "containerPort": 53, "protocol": "UDP", "hostIP": "192.0.2.1"}, {"hostPort": 53, "containerPort": 53, "protocol": "tcp"}, {"hostPort": 54, "containerPort": 54, "protocol": "udp", "hostIP": "2001:db8::1"}]"#

    func runWithHostNetwork(_ command: String, _ stdin: [UInt8], failure: HostNetworkError? = nil) -> (PluginOutput, RecordingBackend, RecordingHostNetwork) {
        let backend = RecordingBackend()
        let host = RecordingHostNetwork(backend)
        host.failure = failure
        var env = Self.env
        env["CNI_COMMAND"] = command
        return (PortmapPlugin(backend: backend, hostNetwork: host, about: "about").run(environment: env, stdin: .bytes(stdin)), backend, host)
    }

    @Test func addEnablesLocalnetFirstAndFlushesUDPAfter() {
        let (output, backend, host) = runWithHostNetwork("ADD", Self.stdin(mappings: Self.udpMappings))
        #expect(output.exitCode == 0)
        #expect(output.stderr.isEmpty)
        #expect(backend.calls.map(\.0) == ["add"])
        #expect(host.events == ["localnet 10.88.0.5 after 0", "flush ipv4 *:53,192.0.2.1:5353 after 1"])
    }

    @Test func addWithoutSNATLeavesRouteLocalnetAlone() {
        let stdin = Self.stdin(mappings: Self.udpMappings).dropLast() + Array(#", "snat": false}"#.utf8)
        let (output, _, host) = runWithHostNetwork("ADD", Array(stdin))
        #expect(output.exitCode == 0, "\(output.stdout)")
        #expect(host.events == ["flush ipv4 *:53,192.0.2.1:5353 after 1"])
    }

    @Test func noUDPMappingNoFlush() {
        let (output, _, host) = runWithHostNetwork("ADD", Self.stdin())
        #expect(output.exitCode == 0)
        #expect(host.events == ["localnet 10.88.0.5 after 0"])
    }

    /// A failed route_localnet fails the ADD before any rule is written (code 102).
    @Test func localnetFailureIsCode102AndWritesNothing() throws {
        let failure = HostNetworkError(operation: "write /proc/sys/net/ipv4/conf/cni0/route_localnet", errno: 13, message: "Permission denied")
        let (output, backend, _) = runWithHostNetwork("ADD", Self.stdin(), failure: failure)
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 102"#))
        #expect(output.stdout.contains("Permission denied"))
        #expect(backend.calls.isEmpty)
    }

    /// A failed flush is a warning: the rules are in place, the verb succeeds.
    @Test func flushFailureIsAWarning() {
        let (add, _, _) = runWithHostNetwork(
            "DEL", Self.stdin(mappings: Self.udpMappings),
            failure: HostNetworkError(operation: "conntrack dump", errno: 93, message: "Protocol not supported"))
        #expect(add.exitCode == 0)
        #expect(add.stdout.isEmpty)
        #expect(add.stderr.contains("warning: could not flush ipv4 UDP conntrack entries: conntrack dump: Protocol not supported"))
    }

    /// A backend's warnings (a commit that went in but reported a failure) reach stderr, one
    /// line each, and the verb succeeds with its usual stdout.
    @Test(arguments: ["ADD", "DEL"])
    func backendWarningsAreStderrLines(command: String) {
        let backend = RecordingBackend()
        backend.warnings = ["iptables nat: first", "ip6tables nat: second"]
        let output = run(
            ["CNI_COMMAND": command, "CNI_CONTAINERID": "c1", "CNI_NETNS": "/x", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"],
            Self.stdin(), backend)
        #expect(output.exitCode == 0)
        #expect(output.stdout.isEmpty == (command == "DEL"))
        #expect(output.stderr == "portmap: warning: iptables nat: first\nportmap: warning: ip6tables nat: second\n")
    }

    /// DEL flushes too (upstream does not); without prevResult, in both families.
    @Test func delFlushesEveryFamilyWithoutPrevResult() {
        let (output, _, host) = runWithHostNetwork("DEL", Self.stdin(mappings: Self.udpMappings, prev: false))
        #expect(output.exitCode == 0)
        #expect(host.events == ["flush ipv4 *:53,192.0.2.1:5353 after 1", "flush ipv6 *:53,2001:db8::1:54 after 1"])
    }

    @Test func checkTouchesNoHostNetwork() {
        let (output, _, host) = runWithHostNetwork("CHECK", Self.stdin(mappings: Self.udpMappings))
        #expect(output.exitCode == 0)
        #expect(host.events.isEmpty)
    }
}

/// CNI 1.1 GC and STATUS: version gating, what reaches the backend, the codes, nothing on stdout.
struct GCStatusDispatchTests {
    typealias RecordingBackend = PortmapPluginTests.RecordingBackend

    static func env(_ command: String) -> [String: String] { ["CNI_COMMAND": command, "CNI_PATH": "/opt/cni/bin"] }

    static func stdin(version: String = "1.1.0", _ extra: String = "") -> [UInt8] {
        Array(#"{"cniVersion": "\#(version)", "name": "net1", "type": "portmap"\#(extra.isEmpty ? "" : ", " + extra)}"#.utf8)
    }

    static let attachments =
        #""cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"}, {"containerID": "b", "ifname": "eth1"}], "cni.dev/attachments": [{"containerID": "b", "ifname": "eth1"}, {"containerID": "c", "ifname": "eth0"}]"#

    func run(_ command: String, _ stdin: [UInt8], _ backend: RecordingBackend = RecordingBackend()) -> (PluginOutput, PortmapPluginTests.RecordingHostNetwork) {
        let host = PortmapPluginTests.RecordingHostNetwork(backend)
        let output = PortmapPlugin(backend: backend, hostNetwork: host, about: "about").run(environment: Self.env(command), stdin: .bytes(stdin))
        return (output, host)
    }

    /// Both keys are read (libcni sends the SPEC's and the legacy one); each attachment once.
    @Test func gcHandsTheNetworkAndEveryListedAttachmentToTheBackend() {
        let backend = RecordingBackend()
        let (output, host) = run("GC", Self.stdin(Self.attachments), backend)
        #expect(output == PluginOutput())
        #expect(backend.gcCalls.map(\.network) == ["net1"])
        #expect(
            backend.gcCalls.first?.attachments == [
                GCAttachment(containerID: "a", ifName: "eth0"), GCAttachment(containerID: "b", ifName: "eth1"),
                GCAttachment(containerID: "c", ifName: "eth0"),
            ])
        #expect(backend.calls.isEmpty && backend.statusCalls.isEmpty)
        #expect(host.events.isEmpty, "GC flushes no conntrack and sets no route_localnet")
    }

    @Test func gcWarningsAreStderrLines() {
        let backend = RecordingBackend()
        backend.warnings = ["iptables nat: reported"]
        let (output, _) = run("GC", Self.stdin(Self.attachments), backend)
        #expect(output == PluginOutput(stderr: "portmap: warning: iptables nat: reported\n"))
    }

    /// libcni marshals a runtime's nil list as `null`: no attachment is valid.
    @Test func gcWithANullListKeepsNothing() {
        let backend = RecordingBackend()
        let (output, _) = run("GC", Self.stdin(#""cni.dev/valid-attachments": null"#), backend)
        #expect(output == PluginOutput())
        #expect(backend.gcCalls.count == 1)
        #expect(backend.gcCalls.first?.attachments == [])
    }

    /// Without any list every container would look stale: refused, nothing removed.
    @Test func gcWithoutTheListIsCode7() {
        let backend = RecordingBackend()
        let (output, _) = run("GC", Self.stdin(), backend)
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 7"#))
        #expect(output.stdout.contains("cni.dev/valid-attachments"))
        #expect(backend.gcCalls.isEmpty)
    }

    @Test func statusSucceedsSilently() {
        let backend = RecordingBackend()
        let (output, host) = run("STATUS", Self.stdin(#""snat": false"#), backend)
        #expect(output == PluginOutput())
        #expect(backend.statusCalls.map(\.name) == ["net1"])
        #expect(backend.statusCalls.first?.snat == false, "the backend probes for the config it is given")
        #expect(backend.calls.isEmpty && backend.gcCalls.isEmpty && host.events.isEmpty)
    }

    @Test(arguments: ["GC", "STATUS"], ["0.3.0", "0.3.1", "0.4.0", "1.0.0"])
    func needsVersion110(command: String, version: String) {
        let backend = RecordingBackend()
        let (output, _) = run(command, Self.stdin(version: version, Self.attachments), backend)
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 1"#))
        #expect(output.stdout.contains("config version does not allow \(command)"))
        #expect(output.stdout.contains(#""cniVersion": "\#(version)""#))
        #expect(backend.gcCalls.isEmpty && backend.statusCalls.isEmpty)
    }

    /// GC maps like the other verbs; for STATUS every failure means "cannot serve ADD": 50.
    @Test(arguments: [
        ("GC", BackendError.Kind.busy, 11), ("GC", .kernel, 100),
        ("STATUS", .busy, 50), ("STATUS", .kernel, 50),
    ])
    func backendFailuresMapToCodes(command: String, kind: BackendError.Kind, code: Int) throws {
        let backend = RecordingBackend()
        backend.failure = BackendError(kind, "what failed", details: "why")
        let (output, _) = run(command, Self.stdin(Self.attachments), backend)
        #expect(output.exitCode == 1)
        #expect(output.stderr.isEmpty)
        #expect(
            try JSONParser.parse(Array(output.stdout.utf8))
                == .object(
                    JSONObject([
                        ("cniVersion", .string("1.1.0")), ("code", .number(JSONNumber(code))),
                        ("msg", .string("what failed")), ("details", .string("why")),
                    ])))
    }

    /// GC and STATUS need no container, netns or interface, only CNI_PATH (as libcni's skel).
    @Test(arguments: ["GC", "STATUS"])
    func needOnlyCNIPath(command: String) {
        let output = PortmapPlugin(backend: RecordingBackend(), hostNetwork: nil, about: "about")
            .run(environment: ["CNI_COMMAND": command], stdin: .bytes(Self.stdin(Self.attachments)))
        #expect(output.exitCode == 1)
        #expect(output.stdout.contains(#""code": 4"#))
        #expect(output.stdout.contains("[CNI_PATH]"))
    }
}

/// The config's `backend` picks the backend each verb reaches.
struct BackendSelectionTests {
    @Test(arguments: [("", BackendKind.iptables), (#""backend": "iptables","#, .iptables), (#""backend": "nftables","#, .nftables)])
    func configChoosesTheBackend(key: String, expected: BackendKind) {
        let iptables = PortmapPluginTests.RecordingBackend()
        let nftables = PortmapPluginTests.RecordingBackend()
        nonisolated(unsafe) var asked: [BackendKind] = []
        let plugin = PortmapPlugin(
            backends: [
                BackendDescriptor(kind: .iptables) { _ in
                    asked.append(.iptables)
                    return iptables
                },
                BackendDescriptor(kind: .nftables) { _ in
                    asked.append(.nftables)
                    return nftables
                },
            ], hostNetwork: nil, about: "about")
        let stdin = Array(#"{"cniVersion": "1.0.0", "name": "net1", \#(key) "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}"#.utf8)
        var environment = CNIEnvironmentTests.add
        environment["CNI_COMMAND"] = "DEL"
        let output = plugin.run(environment: environment, stdin: .bytes(stdin))
        #expect(output.exitCode == 0)
        #expect(asked == [expected])
        #expect(iptables.calls.map(\.0) == (expected == .iptables ? ["delete"] : []))
        #expect(nftables.calls.map(\.0) == (expected == .nftables ? ["delete"] : []))
    }
}
