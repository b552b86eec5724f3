import Foundation
import PortmapCore
import Testing

extension NamespaceTests {
    /// Pods coming and going in parallel, as a node's runtime starts them: on a fresh node (the
    /// shared chains not there yet, the case where the Go plugin loses pods) and on one with a
    /// thousand pods; and a plugin killed in the middle of an ADD.
    @Suite
    struct ConcurrencyTests {
        /// Pod `index`: dual stack, tcp and udp on hostPort 20000 + index.
        static func config(_ index: Int) -> [String: Any] {
            DirectPortmap.config(mappings: [["hostPort": 20000 + index, "containerPort": 80, "protocol": "tcp"],
                                            ["hostPort": 20000 + index, "containerPort": 80, "protocol": "udp"]],
                                 addresses: ["10.88.\(index / 250).\(index % 250 + 2)/16",
                                             "2001:db8:89::\(String(index + 2, radix: 16))/64"])
        }

        static func containerID(_ index: Int) -> String { "ctr-par-\(index)" }

        /// The lines of both nat tables that belong to pod `index` (its chain and its entry rules).
        static func lines(of index: Int, in table: String) -> [Substring] {
            let chain = ChainName.dnat(network: "diff-net", containerID: containerID(index))
            return table.split(separator: "\n").filter { $0.contains(chain) }
        }

        @Test(arguments: [0, 1000])
        func fiftyParallelAddsThenDels(preloaded: Int) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            nonisolated(unsafe) let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let parallel = 50
            if preloaded > 0 {
                // Two at a time, the machine's cores; these are not the subject of the test.
                let outputs = try concurrently(preloaded) { index in
                    try plugin.run("ADD", Self.config(parallel + index), containerID: Self.containerID(parallel + index))
                }
                try #require(outputs.allSatisfy { $0.succeeded })
            }
            let before = (try lab.natTable(), try lab.natTable(v6: true))

            let added = try concurrently(parallel) { index in
                try plugin.run("ADD", Self.config(index), containerID: Self.containerID(index))
            }
            #expect(added.filter { !$0.succeeded }.map(\.stdout) == [])
            for table in [try lab.natTable(), try lab.natTable(v6: true)] {
                let rules = table.split(separator: "\n").filter { $0.hasPrefix("-A ") }
                #expect(Set(rules).count == rules.count, "duplicate rules")
                // Each pod: its chain, three rules per mapping (two marks + DNAT; one mark in
                // IPv6), and one entry rule per protocol.
                for index in 0..<parallel {
                    let owned = Self.lines(of: index, in: table)
                    #expect(owned.contains { $0.contains("--dport \(20000 + index) -j DNAT") && $0.contains("udp") }, "pod \(index) lost its DNAT")
                    #expect(owned.contains { $0.contains("--dport \(20000 + index) -j DNAT") && $0.contains("tcp") }, "pod \(index) lost its DNAT")
                    #expect(owned.filter { $0.hasPrefix("-A CNI-HOSTPORT-DNAT") }.count == 2)
                }
            }

            let deleted = try concurrently(parallel) { index in
                try plugin.run("DEL", Self.config(index), containerID: Self.containerID(index))
            }
            #expect(deleted.filter { !$0.succeeded }.map(\.stdout) == [])
            let after = (try lab.natTable(), try lab.natTable(v6: true))
            if preloaded > 0 {
                #expect(after.0 == before.0)
                #expect(after.1 == before.1)
            } else {
                for table in [after.0, after.1] {
                    #expect(!table.contains("CNI-DN-"), "\(table)")
                    #expect(table.contains(":CNI-HOSTPORT-DNAT"))
                }
            }
        }

        /// `kill -9` at a different moment of each ADD: in each family, the pod's rules are all
        /// there or none are (one commit per table), and the next ADD completes it.
        @Test func killedAddLeavesAllOrNothing() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            // The full set of lines of a pod that was added normally, per family.
            try #require(try plugin.run("ADD", Self.config(0), containerID: Self.containerID(0)).succeeded)
            let complete = [try lab.natTable(), try lab.natTable(v6: true)].map { Self.lines(of: 0, in: $0).count }
            var outcomes: Set<String> = []
            for index in 1...24 {
                // 0.6 ms to 85 ms, geometrically: from before the plugin starts to after it is done.
                let delay = String(format: "%.4f", 0.0005 * pow(1.25, Double(index)))
                _ = try plugin.run("ADD", Self.config(index), containerID: Self.containerID(index), killAfter: delay)
                for (family, table) in [try lab.natTable(), try lab.natTable(v6: true)].enumerated() {
                    let count = Self.lines(of: index, in: table).count
                    #expect(count == 0 || count == complete[family], "pod \(index) family \(family): \(count) of \(complete[family]) lines")
                    outcomes.insert(count == 0 ? "none" : "all")
                }
                let again = try plugin.run("ADD", Self.config(index), containerID: Self.containerID(index))
                #expect(again.succeeded, "\(again.stdout)")
                #expect(Self.lines(of: index, in: try lab.natTable()).count == complete[0])
            }
            // The kill landed both before and after commits at least once, or the test proved little.
            #expect(outcomes == ["none", "all"], "\(outcomes)")
        }
    }
}
