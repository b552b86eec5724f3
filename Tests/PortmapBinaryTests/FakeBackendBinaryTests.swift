import Foundation
import TestSubprocess
import Testing

/// The built `portmap-fake` binary (the plugin with a file-backed backend) run as a runtime runs a
/// plugin: every verb, every error code the protocol layer produces, stdout holding only the result.
@Suite(.serialized)
struct FakeBackendBinaryTests {
    let plugin = BinaryRunner("portmap-fake")
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("portmap-fake-\(UUID().uuidString).json")

    func env(_ command: String, _ changes: [String: String?] = [:]) -> [String: String] {
        var env = [
            "CNI_COMMAND": command, "CNI_CONTAINERID": "ctr-1", "CNI_NETNS": "/var/run/netns/pod1",
            "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin", "PORTMAP_FAKE_STATE": state.path,
        ]
        for (key, value) in changes { env[key] = value }
        return env
    }

    static func config(
        version: String = "1.0.0", network: String = "net1", mappings: String = #"[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]"#,
        prevResult: Bool = true, extra: String = ""
    ) -> String {
        let prev =
            prevResult
            ? #", "prevResult": {"cniVersion": "\#(version)", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/pod1"}], "ips": [{"address": "10.88.0.5/24", "interface": 0}]}"#
            : ""
        return #"{"cniVersion": "\#(version)", "name": "\#(network)", "type": "portmap"\#(extra), "runtimeConfig": {"portMappings": \#(mappings)}\#(prev)}"#
    }

    func errorCode(_ result: Subprocess.Result) throws -> Int {
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require(object?["code"] as? Int)
    }

    @Test func versionPrintsSupportedVersions() throws {
        let result = try plugin.run(environment: ["CNI_COMMAND": "VERSION"], stdin: [UInt8]())
        #expect(result.status == 0)
        #expect(result.stdout == #"{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"# + "\n")
    }

    @Test func noCommandPrintsAboutToStderr() throws {
        let result = try plugin.run(environment: [:], stdin: [UInt8]())
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("CNI portmap plugin"))
    }

    /// An ADD of the plugin started by `/bin/sh -c script` (the binary is `$0`), for stdout set up by the shell.
    func addThroughShell(_ script: String) throws -> Subprocess.Result {
        try Subprocess.run(["/bin/sh", "-c", script, plugin.executable.path], environment: env("ADD"), stdin: Array(Self.config().utf8))
    }

    /// A closed stdout (issue 13, finding 9): no result can reach the runtime, so ADD fails
    /// before changing anything and says why.
    @Test func closedStdoutFailsBeforeAnyChange() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let result = try addThroughShell(#"exec >&-; exec "$0""#)
        #expect(result.status == 1)
        #expect(result.stderr.contains("portmap: ADD: stdout is not open (Bad file descriptor)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state.path), "the backend was never called")
    }

    /// A stdout that fails on write: the change is in, the verb still fails, and stderr says why.
    @Test func failedResultWriteIsAFailure() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let result = try addThroughShell(#"exec "$0" > /dev/full"#)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write the result to stdout (No space left on device)"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: state.path))
    }

    @Test func addCheckDelRoundTrip() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let add = try plugin.run(environment: env("ADD"), stdin: Self.config().utf8)
        #expect(add.status == 0, "\(add.stdout)")
        let result = try JSONSerialization.jsonObject(with: Data(add.stdout.utf8)) as? [String: Any]
        #expect(result?["cniVersion"] as? String == "1.0.0")
        #expect((result?["ips"] as? [[String: Any]])?.first?["address"] as? String == "10.88.0.5/24")

        let check = try plugin.run(environment: env("CHECK"), stdin: Self.config().utf8)
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stdout.isEmpty)

        let del = try plugin.run(environment: env("DEL", ["CNI_NETNS": nil]), stdin: Self.config(prevResult: false).utf8)
        #expect(del.status == 0, "\(del.stdout)")
        #expect(del.stdout.isEmpty)

        // After DEL the container's rules are gone, so CHECK fails naming a missing rule.
        let after = try plugin.run(environment: env("CHECK"), stdin: Self.config().utf8)
        #expect(after.status == 1)
        #expect(try errorCode(after) == 101)
        #expect(after.stdout.contains(#"-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment \"dnat name: \\\"net1\\\" id: \\\"ctr-1\\\"\" -m multiport --dports 8080"#))
    }

    /// The edge reads at most 16 MiB (`StandardInput.byteLimit`): a config padded with spaces to
    /// exactly that is served; one byte more, or 64 MiB, is code 6 (the plugin stops reading, and
    /// the writer gets EPIPE rather than a plugin holding all it sends).
    @Test(arguments: [0, 1, 48 << 20])
    func stdinIsReadUpTo16MiB(excess: Int) throws {
        let limit = 16 << 20
        let config = Array(Self.config(prevResult: false).utf8)
        let stdin = config + [UInt8](repeating: UInt8(ascii: " "), count: limit - config.count + excess)
        let result = try plugin.run(environment: env("DEL", ["CNI_NETNS": nil]), stdin: stdin)
        if excess == 0 {
            #expect(result.status == 0, "\(result.stdout)")
            #expect(result.stdout.isEmpty)
        } else {
            #expect(result.status == 1)
            #expect(try errorCode(result) == 6)
            #expect(result.stdout.contains("longer than 16777216 bytes"), "\(result.stdout)")
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let command: String
        let env: [String: String?]
        let stdin: [UInt8]
        let code: Int
        var testDescription: String { "\(name) → \(code)" }
    }

    static let cases: [Case] = [
        Case(name: "truncated JSON", command: "ADD", env: [:], stdin: Array(String(config().dropLast(20)).utf8), code: 6),
        Case(name: "not JSON", command: "ADD", env: [:], stdin: Array("hello".utf8), code: 6),
        Case(name: "non-UTF-8", command: "ADD", env: [:], stdin: Array(#"{"cniVersion": "1.0.0", "name": "n"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8), code: 6),
        Case(name: "hostPort as string", command: "ADD", env: [:], stdin: Array(config(mappings: #"[{"hostPort": "80", "containerPort": 80}]"#).utf8), code: 6),
        Case(name: "unknown cniVersion", command: "ADD", env: [:], stdin: Array(config(version: "9.9.9").utf8), code: 1),
        Case(name: "CHECK before 0.4.0", command: "CHECK", env: [:], stdin: Array(config(version: "0.3.1").utf8), code: 1),
        Case(
            name: "nftables backend with an iptables option", command: "ADD", env: [:], stdin: Array(config(extra: #", "backend": "nftables", "markMasqBit": 5"#).utf8),
            code: 7),
        Case(name: "missing CNI_CONTAINERID", command: "ADD", env: ["CNI_CONTAINERID": nil], stdin: Array(config().utf8), code: 4),
        Case(name: "missing CNI_NETNS", command: "ADD", env: ["CNI_NETNS": nil], stdin: Array(config().utf8), code: 4),
        Case(name: "bad container id", command: "ADD", env: ["CNI_CONTAINERID": "bad id!"], stdin: Array(config().utf8), code: 4),
        Case(name: "unknown command", command: "FROB", env: [:], stdin: Array(config().utf8), code: 4),
        Case(name: "hostPort 0", command: "ADD", env: [:], stdin: Array(config(mappings: #"[{"hostPort": 0, "containerPort": 80}]"#).utf8), code: 7),
        Case(name: "hostPort 65536", command: "ADD", env: [:], stdin: Array(config(mappings: #"[{"hostPort": 65536, "containerPort": 80}]"#).utf8), code: 7),
        Case(
            name: "protocol icmp", command: "ADD", env: [:], stdin: Array(config(mappings: #"[{"hostPort": 80, "containerPort": 80, "protocol": "icmp"}]"#).utf8), code: 7
        ),
        Case(
            name: "hostIP 1.2.3", command: "ADD", env: [:], stdin: Array(config(mappings: #"[{"hostPort": 80, "containerPort": 80, "hostIP": "1.2.3"}]"#).utf8), code: 7),
        Case(name: "no prevResult on ADD", command: "ADD", env: [:], stdin: Array(config(prevResult: false).utf8), code: 7),
        Case(name: "lock held", command: "ADD", env: ["PORTMAP_FAKE_FAIL": "busy"], stdin: Array(config().utf8), code: 11),
        Case(name: "kernel refused", command: "DEL", env: ["PORTMAP_FAKE_FAIL": "kernel"], stdin: Array(config().utf8), code: 100),
        Case(name: "CHECK without ADD", command: "CHECK", env: [:], stdin: Array(config().utf8), code: 101),
        Case(name: "GC before 1.1.0", command: "GC", env: [:], stdin: Array(gcConfig(version: "1.0.0").utf8), code: 1),
        Case(name: "STATUS before 1.1.0", command: "STATUS", env: [:], stdin: Array(gcConfig(version: "0.4.0").utf8), code: 1),
        Case(name: "GC without the list", command: "GC", env: [:], stdin: Array(config(version: "1.1.0").utf8), code: 7),
        Case(name: "GC list of strings", command: "GC", env: [:], stdin: Array(gcConfig(attachments: #"["ctr-1"]"#).utf8), code: 6),
        Case(name: "GC, lock held", command: "GC", env: ["PORTMAP_FAKE_FAIL": "busy"], stdin: Array(gcConfig().utf8), code: 11),
        Case(name: "GC, kernel refused", command: "GC", env: ["PORTMAP_FAKE_FAIL": "kernel"], stdin: Array(gcConfig().utf8), code: 100),
        Case(name: "STATUS, lock held", command: "STATUS", env: ["PORTMAP_FAKE_FAIL": "busy"], stdin: Array(gcConfig().utf8), code: 50),
        Case(name: "STATUS, kernel refused", command: "STATUS", env: ["PORTMAP_FAKE_FAIL": "kernel"], stdin: Array(gcConfig().utf8), code: 50),
    ]

    /// A GC (or STATUS) config as libcni derives it: no runtimeConfig or prevResult, the list
    /// under both keys.
    static func gcConfig(
        version: String = "1.1.0", network: String = "net1",
        attachments: String = #"[{"containerID": "ctr-1", "ifname": "eth0"}]"#
    ) -> String {
        #"{"cniVersion": "\#(version)", "name": "\#(network)", "type": "portmap", "cni.dev/valid-attachments": \#(attachments), "cni.dev/attachments": \#(attachments)}"#
    }

    /// GC and STATUS get no container, netns or interface.
    func gcEnv(_ command: String, _ changes: [String: String?] = [:]) -> [String: String] {
        env(command, ["CNI_CONTAINERID": nil, "CNI_NETNS": nil, "CNI_IFNAME": nil].merging(changes) { $1 })
    }

    /// GC drops the unlisted containers of its network only; CHECK shows which are left.
    @Test func gcRemovesTheUnlistedContainersOfItsNetwork() throws {
        defer { try? FileManager.default.removeItem(at: state) }
        for (id, network) in [("ctr-1", "net1"), ("ctr-2", "net1"), ("ctr-3", "net2")] {
            let add = try plugin.run(environment: env("ADD", ["CNI_CONTAINERID": id]), stdin: Self.config(version: "1.1.0", network: network).utf8)
            #expect(add.status == 0, "\(add.stdout)")
        }
        let gc = try plugin.run(environment: gcEnv("GC"), stdin: Self.gcConfig().utf8)
        #expect(gc.status == 0, "\(gc.stdout)")
        #expect(gc.stdout.isEmpty && gc.stderr.isEmpty)
        for (id, network, present) in [("ctr-1", "net1", true), ("ctr-2", "net1", false), ("ctr-3", "net2", true)] {
            let check = try plugin.run(environment: env("CHECK", ["CNI_CONTAINERID": id]), stdin: Self.config(version: "1.1.0", network: network).utf8)
            #expect(check.status == (present ? 0 : 1), "\(id): \(check.stdout)")
        }
        // Again: nothing more to remove, still success.
        let again = try plugin.run(environment: gcEnv("GC"), stdin: Self.gcConfig().utf8)
        #expect(again.status == 0 && again.stdout.isEmpty, "\(again.stdout)")
    }

    @Test func statusIsSilentSuccess() throws {
        let status = try plugin.run(environment: gcEnv("STATUS"), stdin: Self.gcConfig().utf8)
        #expect(status.status == 0, "\(status.stdout)")
        #expect(status.stdout.isEmpty && status.stderr.isEmpty)
    }

    @Test(arguments: cases)
    func errorsAreCNIErrorObjects(_ testCase: Case) throws {
        defer { try? FileManager.default.removeItem(at: state) }
        let result = try plugin.run(environment: env(testCase.command, testCase.env), stdin: testCase.stdin)
        #expect(result.status == 1)
        #expect(try errorCode(result) == testCase.code, "\(result.stdout)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["msg"] is String)
        #expect(object?["cniVersion"] is String)
        #expect(!FileManager.default.fileExists(atPath: state.path), "a failed verb must not write state")
    }
}
