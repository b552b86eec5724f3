import Foundation
import PortmapCore
import Testing

extension NamespaceTests {
    /// Pods coming and going in parallel, as a node's runtime starts them: on a fresh node (the
    /// shared chains not there yet, the case where the Go plugin loses pods) and on one with a
    /// thousand pods; and a plugin killed in the middle of an ADD. Both backends.
    @Suite
    struct ConcurrencyTests {
        /// Pod `index`: dual stack, tcp and udp on hostPort 20000 + index.
        static func config(_ index: Int, _ backend: TestBackend = .iptables) -> [String: Any] {
            DirectPortmap.config(
                mappings: [
                    ["hostPort": 20000 + index, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 20000 + index, "containerPort": 80, "protocol": "udp"],
                ],
                addresses: [
                    "10.88.\(index / 250).\(index % 250 + 2)/16",
                    "2001:db8:89::\(String(index + 2, radix: 16))/64",
                ],
                extra: backend.overrides)
        }

        static func containerID(_ index: Int) -> String { "ctr-par-\(index)" }

        /// The lines of a family's ruleset that belong to pod `index`: its chain and its entry rules
        /// (iptables), its elements, each listed on a line of its own with its owner (nftables).
        static func lines(of index: Int, in table: String, _ backend: TestBackend = .iptables) -> [Substring] {
            let mark =
                backend.writesChains
                ? ChainName.dnat(network: "diff-net", containerID: containerID(index))
                : "\"diff-net/\(containerID(index))\""
            return table.split(separator: "\n").filter { $0.contains(mark) }
        }

        /// Whether pod `index` has its TCP and UDP DNAT in a family's ruleset.
        static func hasBothDNATs(_ index: Int, in table: String, _ backend: TestBackend) -> Bool {
            let owned = lines(of: index, in: table, backend)
            return TransportProtocol.allCases.filter { $0 != .sctp }.allSatisfy { transport in
                owned.contains { line in
                    backend.writesChains
                        ? line.contains("-p \(transport) -m \(transport) --dport \(20000 + index) -j DNAT")
                        : line.contains("\(transport) . \(20000 + index) comment")
                }
            }
        }

        @Test(arguments: [(0, TestBackend.iptables), (1000, .iptables), (0, .iptablesNFT), (1000, .iptablesNFT), (0, .nftables), (1000, .nftables)])
        func fiftyParallelAddsThenDels(preloaded: Int, backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            nonisolated(unsafe) let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let parallel = 50
            if preloaded > 0 {
                // Two at a time, the machine's cores; these are not the subject of the test.
                let outputs = try concurrently(preloaded) { index in
                    try plugin.run("ADD", Self.config(parallel + index, backend), containerID: Self.containerID(parallel + index))
                }
                try #require(outputs.allSatisfy { $0.succeeded }, "\(outputs.filter { !$0.succeeded }.prefix(3).map(\.stdout))")
            }
            let before = try lab.ruleset(backend)

            let added = try concurrently(parallel) { index in
                try plugin.run("ADD", Self.config(index, backend), containerID: Self.containerID(index))
            }
            #expect(added.filter { !$0.succeeded }.map(\.stdout) == [])
            for table in try lab.ruleset(backend) {
                for index in 0..<parallel {
                    #expect(Self.hasBothDNATs(index, in: table, backend), "pod \(index) lost a DNAT")
                }
                guard backend.writesChains else { continue }
                let rules = table.split(separator: "\n").filter { $0.hasPrefix("-A ") }
                #expect(Set(rules).count == rules.count, "duplicate rules")
                // Each pod: one entry rule per protocol.
                for index in 0..<parallel {
                    #expect(Self.lines(of: index, in: table).filter { $0.hasPrefix("-A CNI-HOSTPORT-DNAT") }.count == 2)
                }
            }

            let deleted = try concurrently(parallel) { index in
                try plugin.run("DEL", Self.config(index, backend), containerID: Self.containerID(index))
            }
            #expect(deleted.filter { !$0.succeeded }.map(\.stdout) == [])
            let after = try lab.ruleset(backend)
            if preloaded > 0 {
                #expect(after == before)
            } else {
                for table in after {
                    #expect(!table.contains(backend.writesChains ? "CNI-DN-" : "ctr-par-"), "\(table)")
                    #expect(table.contains(backend.writesChains ? ":CNI-HOSTPORT-DNAT" : "chain hostports"))
                }
            }
        }

        /// `kill -9` at a different moment of each ADD: in each family, the pod's rules are all
        /// there or none are (one commit per table), and the next ADD completes it.
        @Test(arguments: TestBackend.allCases)
        func killedAddLeavesAllOrNothing(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            // The full set of lines of a pod that was added normally, per family.
            try #require(try plugin.run("ADD", Self.config(0, backend), containerID: Self.containerID(0)).succeeded)
            let complete = try lab.ruleset(backend).map { Self.lines(of: 0, in: $0, backend).count }
            var outcomes: Set<String> = []
            for index in 1...24 {
                // 0.6 ms to 85 ms, geometrically: from before the plugin starts to after it is done.
                let delay = String(format: "%.4f", 0.0005 * pow(1.25, Double(index)))
                _ = try plugin.run("ADD", Self.config(index, backend), containerID: Self.containerID(index), killAfter: delay)
                for (family, table) in try lab.ruleset(backend).enumerated() {
                    let count = Self.lines(of: index, in: table, backend).count
                    #expect(count == 0 || count == complete[family], "pod \(index) family \(family): \(count) of \(complete[family]) lines")
                    outcomes.insert(count == 0 ? "none" : "all")
                }
                let again = try plugin.run("ADD", Self.config(index, backend), containerID: Self.containerID(index))
                #expect(again.succeeded, "\(again.stdout)")
                #expect(Self.lines(of: index, in: try lab.ruleset(backend)[0], backend).count == complete[0])
            }
            // The kill landed both before and after commits at least once, or the test proved little.
            #expect(outcomes == ["none", "all"], "\(outcomes)")
        }
    }
}
