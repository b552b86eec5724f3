import Foundation
import Testing

extension NamespaceTests {
    /// Seeded random configs (`RandomConfig`) through Debian's Go portmap 1.1.1 and through ours,
    /// each in its own node namespace: whatever Go accepts, ours accepts with the same nat tables
    /// (or refuses for a reason named below), our CHECK passes on Go's pod, and each binary's DEL
    /// removes the other's pod. `PORTMAP_RANDOM_SEED` and `PORTMAP_RANDOM_CONFIGS` choose the run
    /// (a failure names the seed, the index and the config text).
    @Suite
    struct RandomDifferentialTests {
        static let seed = UInt64(ProcessInfo.processInfo.environment["PORTMAP_RANDOM_SEED"] ?? "") ?? 13
        static let count = Int(ProcessInfo.processInfo.environment["PORTMAP_RANDOM_CONFIGS"] ?? "") ?? 120

        /// Where we refuse what Go 1.1.1 accepts, on purpose: a second claim of one
        /// `<hostIP, hostPort, protocol>` (its DNAT could never be reached) and a condition we do not
        /// parse (we write rules through libiptc, not by handing text to iptables).
        static let intendedRefusals = ["duplicates portMappings", "conditionsV4", "conditionsV6"]
        /// Where Go 1.1.1 fails what we accept: a mapping without a protocol (Go runs `-p ""`; we
        /// default to tcp, as the CNI conventions do).
        static let goOnlyFailures = [#"unknown protocol \"\" specified"#]

        @Test func randomConfigsBehaveAsTheGoPlugin() throws {
            let go = DirectPortmap(lab: try NetnsLab(), portmap: .go)
            let ours = DirectPortmap(lab: try NetnsLab(), portmap: .ours)
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            var outcomes: [String: Int] = [:]
            for config in RandomConfig.generate(seed: Self.seed, count: Self.count) {
                // Each config on a node of its own: where the two accepted different configs, the
                // shared chains they left would differ for every config after.
                for lab in [go.lab, ours.lab] { try Self.reset(lab) }
                let replay = "seed \(Self.seed) config \(config.index), CNI_CONTAINERID=\(config.containerID):\n\(config.text)"
                let goAdd = try go.run("ADD", stdin: config.stdin, containerID: config.containerID)
                let ourAdd = try ours.run("ADD", stdin: config.stdin, containerID: config.containerID)
                switch (goAdd.succeeded, ourAdd.succeeded) {
                case (true, true):
                    outcomes["both added", default: 0] += 1
                    let goV4 = try go.lab.natTable()
                    let ourV4 = try ours.lab.natTable()
                    #expect(ourV4.split(separator: "\n") == goV4.split(separator: "\n"), "\(replay)")
                    let goV6 = try go.lab.natTable(v6: true)
                    let ourV6 = try ours.lab.natTable(v6: true)
                    #expect(Self.withoutGoIPv6Duplicates(ourV6) == Self.withoutGoIPv6Duplicates(goV6), "\(replay)")
                    // Go 1.1.1 leaves out IPv6 rules (`goDropsIPv6RulesThatDifferOnlyByPort`); where
                    // it did not, our CHECK passes on its pod. CHECK came with 0.4.0.
                    if ourV6 == goV6, config.cniVersion != "0.3.1" {
                        let check = try DirectPortmap(lab: go.lab, portmap: .ours).run("CHECK", stdin: config.stdin, containerID: config.containerID)
                        #expect(check.succeeded, "our CHECK of Go's pod: \(check.stdout)\n\(replay)")
                    }
                case (true, false):
                    outcomes["refused by ours only", default: 0] += 1
                    #expect(
                        ourAdd.stdout.contains(#""code": 7"#) && Self.intendedRefusals.contains { ourAdd.stdout.contains($0) },
                        "Go accepted, we refused: \(ourAdd.stdout)\n\(replay)")
                case (false, true):
                    outcomes["refused by Go only", default: 0] += 1
                    #expect(Self.goOnlyFailures.contains { goAdd.stdout.contains($0) }, "we accepted, Go refused: \(goAdd.stdout)\n\(replay)")
                case (false, false):
                    outcomes["refused by both", default: 0] += 1
                }
                // Each DELs the other's pod (Go's, even after its failed ADD left a chain); ours
                // always succeeds, Go's wherever Go could read the config.
                let ourDel = try DirectPortmap(lab: go.lab, portmap: .ours).run("DEL", stdin: config.stdin, containerID: config.containerID)
                let goDel = try DirectPortmap(lab: ours.lab, portmap: .go).run("DEL", stdin: config.stdin, containerID: config.containerID)
                #expect(ourDel.succeeded, "our DEL of Go's pod: \(ourDel.stdout)\n\(replay)")
                #expect(goDel.succeeded || !goAdd.succeeded, "Go's DEL of our pod: \(goDel.stdout)\n\(replay)")
                for lab in [go.lab, ours.lab] {
                    for v6 in [false, true] {
                        let table = try lab.natTable(v6: v6)
                        #expect(!table.contains("CNI-DN-") && !table.contains(String(config.containerID.prefix(40))), "left behind (v6=\(v6)):\n\(table)\n\(replay)")
                    }
                }
            }
            print(
                "random differential, seed \(Self.seed), \(Self.count) configs: \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
            )
            #expect(outcomes["both added", default: 0] >= Self.count / 3, "too few configs both accepted to compare: \(outcomes)")
        }

        /// Both nat tables back to a node's before any pod: empty but for kube-proxy's mark chain.
        static func reset(_ lab: NetnsLab) throws {
            for tool in ["iptables-legacy", "ip6tables-legacy"] {
                try lab.inNode(tool, "-t", "nat", "-F")
                try lab.inNode(tool, "-t", "nat", "-X")
                try lab.inNode(tool, "-t", "nat", "-N", RandomConfig.markChain)
            }
        }

        /// An ip6tables save as Go 1.1.1 leaves it: its "insert unless present" check ignores the
        /// ports there (of the tcp, udp and multiport matches and of the DNAT target), so of rules
        /// that differ only in ports it keeps the first. Applied to both sides, the comparison is
        /// exact elsewhere.
        static func withoutGoIPv6Duplicates(_ save: String) -> [String] {
            var seen: Set<String> = []
            return save.split(separator: "\n").map(String.init).filter { line in
                guard line.hasPrefix("-A ") else { return true }
                let normalized = line.replacingOccurrences(of: #"--dports? [0-9,:]+"#, with: "--dport P", options: .regularExpression)
                    .replacingOccurrences(of: #"\]:[0-9]+"#, with: "]:P", options: .regularExpression)
                return seen.insert(normalized).inserted
            }
        }
    }
}
