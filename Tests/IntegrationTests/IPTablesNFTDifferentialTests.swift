import Foundation
import Testing

extension NamespaceTests {
    /// Our iptables-nft store against Debian's Go portmap 1.1.1 run with iptables-nft, on nodes
    /// whose kubelet writes there (its canary in iptables-nft's mangle table), so ours chooses the
    /// store unasked: for the same configs `iptables-nft-save` lists the same tables, each binary
    /// DELs the other's containers, and neither touches the legacy x_tables.
    @Suite
    struct IPTablesNFTDifferentialTests {
        /// Two iptables-nft node namespaces, prepared for `scenario`: Go, and ours.
        static func pair(_ scenario: DifferentialTests.Scenario) throws -> (go: DirectPortmap, ours: DirectPortmap) {
            let pair = (
                DirectPortmap(lab: try NetnsLab(kubelet: .nft), portmap: .go, iptables: .nft),
                DirectPortmap(lab: try NetnsLab(kubelet: .nft), portmap: .ours)
            )
            do {
                try scenario.prepare(pair.0.lab, store: .nft)
                try scenario.prepare(pair.1.lab, store: .nft)
            } catch {
                pair.0.lab.tearDown()
                pair.1.lab.tearDown()
                throw error
            }
            return pair
        }

        /// The same config for both binaries: nothing tells ours where to write.
        static func config(_ scenario: DifferentialTests.Scenario) -> [String: Any] {
            DirectPortmap.config(mappings: scenario.portMappings, addresses: scenario.addresses, extra: scenario.extraConfig)
        }

        /// Both families' nat tables as iptables-nft lists them, and the legacy tables' names.
        static func tables(_ lab: NetnsLab) throws -> [String] {
            [try lab.natTable(store: .nft), try lab.natTable(v6: true, store: .nft)]
        }

        static func legacyTableNames(_ lab: NetnsLab) throws -> String {
            try ["ip", "ip6"].map { try lab.inNode("cat", "/proc/net/\($0)_tables_names").stdout }.joined()
        }

        @Test(arguments: DifferentialTests.scenarios)
        func sameTablesAsTheGoPlugin(_ scenario: DifferentialTests.Scenario) throws {
            let (go, ours) = try Self.pair(scenario)
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            let config = Self.config(scenario)
            for containerID in ["ctr-diff-1", "ctr-diff-2"] {
                let goAdd = try go.run("ADD", config, containerID: containerID)
                let ourAdd = try ours.run("ADD", config, containerID: containerID)
                #expect(goAdd.succeeded, "\(goAdd.stdout)\(goAdd.stderr)")
                #expect(ourAdd.succeeded, "\(ourAdd.stdout)")
            }
            let ourTables = try Self.tables(ours.lab)
            #expect(ourTables == (try Self.tables(go.lab)))
            #expect(ourTables[0].contains("ctr-diff-2"), "\(ourTables[0])")
            #expect(try Self.legacyTableNames(ours.lab) == "", "the nft store touched the legacy x_tables")
        }

        /// Ours DELs Go's containers and Go DELs ours, as each one's own DEL would, and our CHECK
        /// passes on Go's pod.
        @Test(arguments: DifferentialTests.scenarios)
        func eachDeletesTheOthersContainer(_ scenario: DifferentialTests.Scenario) throws {
            let (go, ours) = try Self.pair(scenario)
            defer {
                go.lab.tearDown()
                ours.lab.tearDown()
            }
            let config = Self.config(scenario)
            for side in [go, ours] {
                try #require(try side.run("ADD", config, containerID: "keep").succeeded)
                try #require(try side.run("ADD", config).succeeded)
            }
            let ourCheck = try DirectPortmap(lab: go.lab, portmap: .ours).run("CHECK", config)
            #expect(ourCheck.succeeded, "our CHECK of Go's pod: \(ourCheck.stdout)")
            let ourDel = try DirectPortmap(lab: go.lab, portmap: .ours).run("DEL", config)
            let goDel = try DirectPortmap(lab: ours.lab, portmap: .go, iptables: .nft).run("DEL", config)
            #expect(ourDel.succeeded, "\(ourDel.stdout)")
            #expect(goDel.succeeded, "\(goDel.stdout)\(goDel.stderr)")
            let goTables = try Self.tables(go.lab)
            #expect(goTables == (try Self.tables(ours.lab)))
            for (family, table) in goTables.enumerated() {
                #expect(!table.contains("ctr-diff-1"))
                let hasFamily = scenario.addresses.contains { $0.contains(":") == (family == 1) }
                #expect(table.contains("keep") == hasFamily)
            }
        }

        /// A DEL without any store holding the container, in a namespace where nothing was ever
        /// written, succeeds and creates nothing in either store.
        @Test func delOfAnUnknownContainerCreatesNothing() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let config = DirectPortmap.config(mappings: [["hostPort": 8080, "containerPort": 80]], addresses: ["10.88.0.5/24"])
            let del = try DirectPortmap(lab: lab, portmap: .ours).run("DEL", config)
            #expect(del.succeeded, "\(del.stdout)")
            #expect(try Self.legacyTableNames(lab) == "")
            #expect(try lab.inNode("nft", "list", "ruleset").stdout == "")
        }
    }
}
