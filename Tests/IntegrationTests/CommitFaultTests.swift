import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// libiptc's commit is two setsockopt calls, the table replace and then the restore of the old
    /// rules' counters; a writer outside the lock that replaces the table in between makes the
    /// second fail with EINVAL after the change went in (issue 13, finding 7). A shim loaded with
    /// LD_PRELOAD fails either call on demand, so both cases are reproduced every time.
    @Suite
    struct CommitFaultTests {
        static let replace = "64", counterRestore = "65"

        static var config: [String: Any] {
            DirectPortmap.config(
                mappings: [["hostPort": 8090, "containerPort": 80, "protocol": "tcp"]],
                addresses: ["10.88.0.20/24", "2001:db8:89::20/64"])
        }

        /// The shim, built into the lab's directory.
        static func shim(_ lab: NetnsLab) throws -> String {
            let library = lab.dataDir.appendingPathComponent("fail_setsockopt.so").path
            let source = Prerequisites.fixtures.appendingPathComponent("fail_setsockopt.c").path
            try Command.check(["gcc", "-shared", "-fPIC", "-o", library, source, "-ldl"])
            return library
        }

        /// A counter restore that fails after the replace: the verb succeeds (its change is in the
        /// kernel), with a warning per table on stderr; before, ADD answered code 100.
        @Test(arguments: ["ADD", "DEL"])
        func failedCounterRestoreIsAWarning(verb: String) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            if verb == "DEL" { try #require(try plugin.run("ADD", Self.config).succeeded) }
            let faulty = ["LD_PRELOAD": try Self.shim(lab), "PORTMAP_TEST_FAIL_SETSOCKOPT": Self.counterRestore]
            let result = try plugin.run(verb, Self.config, env: faulty)
            #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
            if verb == "ADD" { #expect(result.stdout.contains("10.88.0.20/24")) }
            for table in ["iptables nat", "ip6tables nat"] {
                #expect(result.stderr.contains("portmap: warning: \(table): the commit reported"), "\(result.stderr)")
            }
            for v6 in [false, true] {
                #expect(try lab.natTable(v6: v6).contains(#"id: \"ctr-diff-1\""#) == (verb == "ADD"), "v6=\(v6)")
            }
            #expect(try plugin.run("CHECK", Self.config).succeeded == (verb == "ADD"))
        }

        /// A replace that fails is a failure: code 100 with the reason, and the tables as they were.
        @Test func failedReplaceIsCode100AndChangesNothing() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let shim = try Self.shim(lab)
            // The tables exist, as on a node: reading one instantiates it.
            for tool in ["iptables-legacy", "ip6tables-legacy"] {
                for table in ["nat", "raw"] { _ = try lab.inNode(tool, "-t", table, "-S") }
            }
            let before = try lab.rulesets()
            let result = try DirectPortmap(lab: lab, portmap: .ours).run(
                "ADD", Self.config, env: ["LD_PRELOAD": shim, "PORTMAP_TEST_FAIL_SETSOCKOPT": Self.replace])
            #expect(result.status == 1)
            let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(error?["code"] as? Int == 100, "\(result.stdout)")
            #expect((error?["msg"] as? String)?.contains("Invalid argument") == true, "\(result.stdout)")
            #expect(try lab.rulesets() == before)
        }
    }
}
