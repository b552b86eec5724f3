import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

/// What GC removes from a nat table, and everything it must leave alone, without root.
struct GarbageCollectionTests {
    static let mappings = #"[{"hostPort": 8080, "containerPort": 80}, {"hostPort": 8053, "containerPort": 53, "protocol": "udp"}]"#

    /// ADDs `id` of `network` to `table` as the plugin would.
    static func add(_ id: String, network: String = "net1", to table: InMemoryRuleTable, host: Int = 5) throws {
        let json = #"{"cniVersion": "1.1.0", "name": "\#(network)", "runtimeConfig": {"portMappings": \#(mappings)}}"#
        let config = try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
        let address = table.family == .ipv4 ? IPNetwork("10.88.0.\(host)/24")! : IPNetwork("2001:db8:89::\(host)/64")!
        #expect(try ChainReconciler.apply(IPTablesPlanner.plan(config, containerID: id, container: address), to: table))
    }

    static func collect(_ network: String = "net1", keeping: Set<String>, from table: InMemoryRuleTable) throws -> Bool {
        try ChainReconciler.collectGarbage(network: network, keeping: keeping, from: table)
    }

    /// `lines` without those naming one of `chains`: their rules and the jumps to them.
    static func without(_ chains: String..., in lines: [String]) -> [String] {
        lines.filter { line in !chains.contains { line.contains($0) } }
    }

    static let canary = IPTablesRule(source: Inverted(IPNetwork("203.0.113.77/32")!), matches: [.comment("canary")], target: .verdict("RETURN"))
    static let canaryV6 = IPTablesRule(source: Inverted(IPNetwork("2001:db8:ffff::77/128")!), matches: [.comment("canary")], target: .verdict("RETURN"))

    /// A node with containers a, b, c of net1, a and x of net2, q of "net" (a prefix of net1's
    /// name), canaries in the built-in and shared chains, and a foreign chain that net1's
    /// comment is copied onto.
    static func node(_ family: IPFamily) throws -> InMemoryRuleTable {
        let table = InMemoryRuleTable(family: family)
        for (index, id) in ["a", "b", "c"].enumerated() { try add(id, to: table, host: 10 + index) }
        try add("a", network: "net2", to: table, host: 20)
        try add("x", network: "net2", to: table, host: 21)
        try add("q", network: "net", to: table, host: 22)
        for chain in ["PREROUTING", "POSTROUTING", ChainName.topLevelDNAT] {
            try table.append(family == .ipv4 ? canary : canaryV6, to: chain)
        }
        try table.createChain("FOREIGN")
        try table.append(IPTablesRule(matches: [.comment(#"dnat name: "net1" id: "zzz""#)], target: .jump("FOREIGN")), to: ChainName.topLevelDNAT)
        return table
    }

    @Test(arguments: IPFamily.allCases)
    func keepsListedContainersAndRemovesTheRestOfTheNetwork(family: IPFamily) throws {
        let table = try Self.node(family)
        let before = table.saveLines
        let b = ChainName.dnat(network: "net1", containerID: "b")
        #expect(before.contains { $0.hasPrefix("-A \(b) ") })

        #expect(try Self.collect(keeping: ["a", "c"], from: table))
        #expect(!table.chainExists(b))
        #expect(table.saveLines == Self.without(b, in: before))

        // Idempotent: nothing left to do, nothing edited.
        let edits = table.edits
        #expect(try Self.collect(keeping: ["a", "c"], from: table) == false)
        #expect(table.edits == edits)

        // An empty list removes every container of net1, and only those.
        let a = ChainName.dnat(network: "net1", containerID: "a")
        let c = ChainName.dnat(network: "net1", containerID: "c")
        #expect(try Self.collect(keeping: [], from: table))
        #expect(table.saveLines == Self.without(a, b, c, in: before))
        #expect(table.chainExists(ChainName.dnat(network: "net2", containerID: "a")))
        #expect(table.chainExists(ChainName.dnat(network: "net", containerID: "q")))
        #expect(table.chainExists("FOREIGN"), "a jump to a chain not named CNI-DN- is never GC's")
        for shared in [ChainName.topLevelDNAT, ChainName.setMark, ChainName.markMasquerade] {
            #expect(table.chainExists(shared))
        }
    }

    /// The attachment list names containers; the same ID in another network is another container.
    @Test func anotherNetworksContainerOfTheSameIDStays() throws {
        let table = try Self.node(.ipv4)
        let before = table.saveLines
        #expect(try Self.collect("net2", keeping: ["x"], from: table))
        #expect(table.saveLines == Self.without(ChainName.dnat(network: "net2", containerID: "a"), in: before))
        #expect(table.chainExists(ChainName.dnat(network: "net1", containerID: "a")))
    }

    @Test func noDNATChainNoChange() throws {
        let table = InMemoryRuleTable()
        #expect(try Self.collect(keeping: [], from: table) == false)
        #expect(table.edits == 0)
    }

    /// A comment cut to 253 bytes + ".." (what the kernel keeps of Go's trim) in the container ID still names its network: an
    /// unlisted container goes, a listed one stays (its chain name is computed from the list).
    @Test func truncatedCommentsOfTheNetworkAreRecognized() throws {
        let table = InMemoryRuleTable()
        let listed = String(repeating: "k", count: 300)
        let unlisted = String(repeating: "l", count: 300)
        try Self.add(listed, to: table, host: 30)
        try Self.add(unlisted, to: table, host: 31)
        #expect(
            try table.rules(in: ChainName.topLevelDNAT).allSatisfy { rule in
                rule.matches.contains {
                    if case .comment(let text) = $0 { return text.hasSuffix("..") && text.utf8.count == 255 }
                    return false
                }
            })
        #expect(try Self.collect(keeping: [listed], from: table))
        #expect(table.chainExists(ChainName.dnat(network: "net1", containerID: listed)))
        #expect(!table.chainExists(ChainName.dnat(network: "net1", containerID: unlisted)))
        #expect(try table.rules(in: ChainName.topLevelDNAT).count == 2, "the listed container's TCP and UDP entry rules")
    }

    /// A network name so long that truncation cuts into it: the comment could be any network's
    /// with that prefix, so the chain stays unless listed, which keeps it anyway.
    @Test func aCommentCutInTheNetworkNameIsLeftAlone() throws {
        let table = InMemoryRuleTable()
        let network = String(repeating: "n", count: 250)
        try Self.add("c1", network: network, to: table)
        let before = table.saveLines
        #expect(try Self.collect(network, keeping: [], from: table) == false)
        #expect(table.saveLines == before)
    }

    /// CNI-DN- chains GC cannot tie to the network stay: one without entry rule (a hash names
    /// no network), one that a rule without our comment also jumps to, one used elsewhere.
    @Test func chainsItCannotAttributeOrThatOthersUseStay() throws {
        let table = InMemoryRuleTable()
        try Self.add("kept", to: table, host: 40)
        let orphan = ChainName.dnat(network: "net1", containerID: "orphan")
        try table.createChain(orphan)
        try table.append(IPTablesRule(target: .dnat(IPAddress("10.88.0.41")!, port: 80)), to: orphan)
        try Self.add("shared-jump", to: table, host: 42)
        let sharedJump = ChainName.dnat(network: "net1", containerID: "shared-jump")
        try table.append(IPTablesRule(matches: [.comment("someone else's")], target: .jump(sharedJump)), to: ChainName.topLevelDNAT)
        try Self.add("used-elsewhere", to: table, host: 43)
        let usedElsewhere = ChainName.dnat(network: "net1", containerID: "used-elsewhere")
        try table.append(IPTablesRule(target: .jump(usedElsewhere)), to: "PREROUTING")
        try Self.add("stale", to: table, host: 44)
        let before = table.saveLines

        #expect(try Self.collect(keeping: ["kept"], from: table))
        #expect(table.saveLines == Self.without(ChainName.dnat(network: "net1", containerID: "stale"), in: before))
        for chain in [orphan, sharedJump, usedElsewhere] { #expect(table.chainExists(chain)) }
    }

    /// The Go plugin's entry rules carry the same comment, so GC recognizes them the same way
    /// (the layout is identical; this is the rule it writes for one TCP port).
    @Test func theGoPluginsRulesAreRecognized() throws {
        let table = InMemoryRuleTable()
        let chain = ChainName.dnat(network: "test", containerID: "abc123")
        try table.createChain(ChainName.topLevelDNAT)
        try table.createChain(chain)
        try table.append(
            IPTablesRule(
                protocolNumber: Inverted(6), matches: [.destinationPort(.tcp, 8080)],
                target: .dnat(IPAddress("10.88.0.5")!, port: 80)), to: chain)
        try table.append(
            IPTablesRule(
                protocolNumber: Inverted(6), matches: [.comment(#"dnat name: "test" id: "abc123""#), .multiportDestination([8080])],
                target: .jump(chain)), to: ChainName.topLevelDNAT)
        #expect(try Self.collect("test", keeping: ["other"], from: table))
        #expect(!table.chainExists(chain))
        #expect(try table.rules(in: ChainName.topLevelDNAT).isEmpty)
    }
}
