import Foundation
import Testing

extension NamespaceTests {
    /// Hostile stdin through the real binary: huge arrays, deep nesting, malformed UTF-8, NUL bytes,
    /// numbers beyond 64 bits, duplicate keys, 10 MB values, more stdin than the 16 MiB read. Each is
    /// answered within seconds (the parse is linear and bounded in depth), and either refused with
    /// its CNI code leaving both nat tables byte for byte as they were, or accepted and then deleted
    /// without a trace.
    @Suite
    struct HostileInputTests {
        struct Case: Sendable, CustomTestStringConvertible {
            let name: String
            /// Built when the case runs, so that the 10 MB inputs are not all held at once.
            let stdin: @Sendable () -> [UInt8]
            /// The CNI error code expected, or nil when the input is accepted.
            let code: Int?
            var testDescription: String { "\(name) → \(code.map(String.init) ?? "accepted")" }

            init(_ name: String, _ stdin: @autoclosure @escaping @Sendable () -> String, code: Int?) {
                self.init(name, bytes: Array(stdin().utf8), code: code)
            }

            init(_ name: String, bytes: @autoclosure @escaping @Sendable () -> [UInt8], code: Int?) {
                self.name = name
                self.stdin = bytes
                self.code = code
            }
        }

        /// BadInputTests' config (network "bad-net", the container at 10.88.0.9 and 2001:db8:89::9).
        static func config(
            _ mappings: String = #"[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]"#,
            extra: String = ""
        ) -> String {
            BadInputTests.config(mappings, extra: extra)
        }

        /// A JSON array of `count` elements.
        static func array(_ count: Int, _ element: (Int) -> String) -> String {
            "[" + (0..<count).map(element).joined(separator: ",") + "]"
        }

        static func withBytes(_ prefix: String, _ bytes: [UInt8], _ suffix: String) -> [UInt8] {
            Array(prefix.utf8) + bytes + Array(suffix.utf8)
        }

        static let tenMegabytes = 10 * 1024 * 1024
        /// The container's address in prevResult, to be replaced.
        static let containerAddress = #""address": "10.88.0.9/24""#

        static let refused: [Case] = [
            // Sizes: counted before anything is decoded or planned.
            Case("10^5 elements in portMappings", config(array(100_000) { _ in #"{"hostPort": 1, "containerPort": 1}"# }), code: 7),
            Case("10^4 distinct mappings", config(array(10_000) { #"{"hostPort": \#($0 + 1), "containerPort": 80}"# }), code: 7),
            Case("1025 distinct mappings", config(array(1025) { #"{"hostPort": \#($0 + 1), "containerPort": 80}"# }), code: 7),
            // Nesting: refused at depth 65, long before the stack ends.
            Case("10^5 nested arrays", config(extra: #", "junk": "# + String(repeating: "[", count: 100_000)), code: 6),
            Case("10^5 nested objects", config(extra: #", "junk": "# + String(repeating: #"{"a":"#, count: 100_000)), code: 6),
            Case(
                "10^5 nested arrays in prevResult",
                config().replacingOccurrences(
                    of: #""ips": "#, with: #""deep": \#(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)), "ips": "#), code: 6),
            // Bytes that are not UTF-8 or not JSON.
            Case("a lone continuation byte", bytes: withBytes(#"{"cniVersion": "1.0.0", "name": "n"#, [0x80], #""}"#), code: 6),
            Case("an overlong '/'", bytes: withBytes(#"{"cniVersion": "1.0.0", "name": "n"#, [0xC0, 0xAF], #""}"#), code: 6),
            Case("a UTF-8-encoded surrogate", bytes: withBytes(#"{"cniVersion": "1.0.0", "name": "n"#, [0xED, 0xA0, 0x80], #""}"#), code: 6),
            Case("a code point past U+10FFFF", bytes: withBytes(#"{"cniVersion": "1.0.0", "name": "n"#, [0xF4, 0x90, 0x80, 0x80], #""}"#), code: 6),
            Case("Latin-1 in a key", bytes: withBytes(#"{"cniVersion": "1.0.0", "n"#, [0xE9], #"": 1}"#), code: 6),
            Case("a byte order mark", bytes: [0xEF, 0xBB, 0xBF] + Array(config().utf8), code: 6),
            Case("UTF-16", bytes: Array(config().utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, code: 6),
            Case("a NUL byte between members", bytes: withBytes(#"{"cniVersion": "1.0.0","#, [0], #""name": "n"}"#), code: 6),
            Case("a NUL byte after the document", bytes: Array(config().utf8) + [0], code: 6),
            Case("an escaped NUL in the name", #"{"cniVersion": "1.0.0", "name": "bad\u0000net"}"#, code: 7),
            Case("a lone surrogate escape", #"{"cniVersion": "1.0.0", "name": "n\ud800"}"#, code: 6),
            Case("a second document", config() + config(), code: 6),
            Case("empty stdin", "", code: 6),
            Case("1 MB of whitespace", String(repeating: " \n\t\r", count: 262_144), code: 6),
            Case("a config followed by 16 MiB of spaces", bytes: Array(config().utf8) + [UInt8](repeating: 0x20, count: 16 << 20), code: 6),
            // Numbers.
            Case("hostPort 1e400", config(#"[{"hostPort": 1e400, "containerPort": 80}]"#), code: 6),
            Case("hostPort 8080.0", config(#"[{"hostPort": 8080.0, "containerPort": 80}]"#), code: 6),
            Case("hostPort -0.0", config(#"[{"hostPort": -0.0, "containerPort": 80}]"#), code: 6),
            Case("hostPort -0", config(#"[{"hostPort": -0, "containerPort": 80}]"#), code: 7),
            Case("hostPort 99999999999999999999999", config(#"[{"hostPort": 99999999999999999999999, "containerPort": 80}]"#), code: 7),
            Case("containerPort 2^63", config(#"[{"hostPort": 8080, "containerPort": 9223372036854775808}]"#), code: 7),
            Case("containerPort -2^63 - 1", config(#"[{"hostPort": 8080, "containerPort": -9223372036854775809}]"#), code: 7),
            Case("markMasqBit 2^64 + 13", config(extra: #", "markMasqBit": 18446744073709551629"#), code: 7),
            Case("a 10 MB hostPort", config(#"[{"hostPort": \#(String(repeating: "9", count: tenMegabytes)), "containerPort": 80}]"#), code: 7),
            Case("an interface index beyond 64 bits", config().replacingOccurrences(of: #""interface": 0}"#, with: #""interface": 18446744073709551616}"#), code: 7),
            // Duplicate keys: the last one counts, as in Go's encoding/json.
            Case("a valid hostPort then 0", config(#"[{"hostPort": 8080, "hostPort": 0, "containerPort": 80}]"#), code: 7),
            Case("a valid name then an invalid one", config(extra: #", "name": "bad name""#), code: 7),
            Case("a valid cniVersion then 9.9.9", config(extra: #", "cniVersion": "9.9.9""#), code: 1),
            Case("portMappings, then portMappings as an object", config(#"[], "portMappings": {}"#), code: 6),
            // 10 MB values.
            Case("a 10 MB name", config().replacingOccurrences(of: #""bad-net""#, with: #""\#(String(repeating: "a!", count: tenMegabytes / 2))""#), code: 7),
            Case("a 10 MB hostIP", config(#"[{"hostPort": 8080, "containerPort": 80, "hostIP": "\#(String(repeating: "1", count: tenMegabytes))"}]"#), code: 7),
            Case(
                "a 10 MB protocol of escapes",
                config(#"[{"hostPort": 8080, "containerPort": 80, "protocol": "\#(String(repeating: #"\u00e9"#, count: tenMegabytes / 6))"}]"#), code: 7),
            Case("a 10 MB condition", config(extra: #", "conditionsV4": ["-s", "\#(String(repeating: "1", count: tenMegabytes))"]"#), code: 7),
            Case(
                "a 10 MB container address", config().replacingOccurrences(of: containerAddress, with: #""address": "\#(String(repeating: "1", count: tenMegabytes))""#),
                code: 6),
            Case("an unterminated 10 MB string", config(extra: #", "junk": ""# + String(repeating: "a", count: tenMegabytes)), code: 6),
        ]

        static let accepted: [Case] = [
            Case("10^5 elements in an unknown key", config(extra: #", "junk": "# + array(100_000) { _ in "1" }), code: nil),
            Case("10^5 unknown keys", config(extra: (0..<100_000).map { #", "k\#($0)": null"# }.joined()), code: nil),
            Case("10^5 duplicate keys", config(extra: String(repeating: #", "snat": false, "snat": true"#, count: 50_000)), code: nil),
            Case("a 10 MB string in an unknown key", config(extra: #", "junk": "\#(String(repeating: "a", count: tenMegabytes))""#), code: nil),
            Case(
                "a 10 MB string of escapes in prevResult",
                config().replacingOccurrences(of: #""ips": "#, with: #""junk": "\#(String(repeating: #"\ud83d\ude00"#, count: tenMegabytes / 12))", "ips": "#), code: nil),
            Case("nesting at 60 levels", config(extra: #", "junk": "# + String(repeating: "[", count: 60) + String(repeating: "]", count: 60)), code: nil),
            Case(
                "10^5 addresses on another interface before the container's",
                config()
                    .replacingOccurrences(of: #""sandbox": "/var/run/netns/pod"}]"#, with: #""sandbox": "/var/run/netns/pod"}, {"name": "cni0"}]"#)
                    .replacingOccurrences(of: #""ips": ["#, with: #""ips": ["# + String(repeating: #"{"address": "10.1.0.1/24", "interface": 1},"#, count: 100_000)),
                code: nil),
            Case(
                "a config padded with spaces to 16 MiB (the limit)", bytes: Array(config().utf8) + [UInt8](repeating: 0x20, count: (16 << 20) - config().utf8.count),
                code: nil),
            Case(
                "1024 distinct mappings (the limit)", config(array(1024) { #"{"hostPort": \#($0 + 1), "containerPort": 80, "protocol": "\#(["tcp", "udp"][$0 % 2])"}"# }),
                code: nil),
        ]

        /// A run still going after this many seconds is killed (and so fails its test): a hang
        /// guard, not a speed check (those are scripts/bench.sh's). The slowest of these inputs takes
        /// about 3 s with the debug binary on the 2-core development machine.
        static let killAfter = "25"

        /// A lab whose node carries another container's rules, and both nat tables as they are.
        static func labWithAContainer() throws -> (NetnsLab, DirectPortmap, (String, String)) {
            let lab = try NetnsLab()
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let existing = DirectPortmap.config(
                mappings: [["hostPort": 7070, "containerPort": 70, "protocol": "tcp"]],
                addresses: ["10.88.0.3/24", "2001:db8:89::3/64"])
            try #require(try plugin.run("ADD", existing, containerID: "existing").succeeded)
            return (lab, plugin, (try lab.natTable(), try lab.natTable(v6: true)))
        }

        /// Runs one verb, killed if it hangs.
        static func bounded(
            _ plugin: DirectPortmap, _ command: String, _ stdin: [UInt8],
            env: [String: String?] = [:]
        ) throws -> Command.Result {
            try plugin.run(command, stdin: Data(stdin), containerID: "ctr-hostile", env: env, killAfter: killAfter)
        }

        @Test(arguments: refused)
        func isRefusedWithItsCodeAndChangesNothing(_ testCase: Case) throws {
            let (lab, plugin, before) = try Self.labWithAContainer()
            defer { lab.tearDown() }

            let result = try Self.bounded(plugin, "ADD", testCase.stdin())
            #expect(result.status == 1, "\(result.stderr)")
            let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(error?["code"] as? Int == testCase.code, "\(result.stdout.prefix(500))")
            #expect((error?["msg"] as? String)?.isEmpty == false)
            #expect(try lab.natTable() == before.0)
            #expect(try lab.natTable(v6: true) == before.1)
        }

        /// ADD succeeds and CHECK agrees, each within the time limit; DEL then leaves both nat
        /// tables exactly as they were.
        @Test(arguments: accepted)
        func isAcceptedAndDeletedWithoutATrace(_ testCase: Case) throws {
            let (lab, plugin, before) = try Self.labWithAContainer()
            defer { lab.tearDown() }

            let stdin = testCase.stdin()
            for command in ["ADD", "CHECK"] {
                let result = try Self.bounded(plugin, command, stdin)
                try #require(result.succeeded, "\(command): \(result.stdout.prefix(500))\(result.stderr)")
            }
            #expect(try lab.natTable() != before.0)
            let result = try Self.bounded(plugin, "DEL", stdin)
            #expect(result.succeeded, "\(result.stdout.prefix(500))\(result.stderr)")
            #expect(try lab.natTable() == before.0)
            #expect(try lab.natTable(v6: true) == before.1)
        }

        /// GC's list of valid attachments as libcni sends it (under both keys), 10^5 long, for a
        /// network with no container here: answered within the time limit, nothing removed.
        @Test func gcWithAHugeAttachmentListChangesNothing() throws {
            let (lab, plugin, before) = try Self.labWithAContainer()
            defer { lab.tearDown() }
            let list = Self.array(100_000) { #"{"containerID": "ctr-\#($0)", "ifname": "eth0"}"# }
            let stdin = #"{"cniVersion": "1.1.0", "name": "hostile-gc", "type": "portmap", "cni.dev/valid-attachments": \#(list), "cni.dev/attachments": \#(list)}"#

            let result = try Self.bounded(plugin, "GC", Array(stdin.utf8), env: GCStatusTests.noAttachment)
            #expect(result.succeeded, "\(result.stdout.prefix(500))\(result.stderr)")
            #expect(try lab.natTable() == before.0)
            #expect(try lab.natTable(v6: true) == before.1)
        }
    }
}
