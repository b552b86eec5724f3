import Foundation
import Nftnl
import PortmapCore
import TestSubprocess
import Testing

@testable import IPTablesLayout
@testable import IPTablesNFTStore

/// What the root-only tests need: root, `ip netns`, iptables-nft-restore and a C compiler (for
/// the capture shim).
enum RootPrerequisites {
    static let missing = RootProbe.missing(
        needsRootFor: "network namespaces, iptables-nft",
        executables: [("/usr/sbin/iptables-nft-restore", "iptables-nft-restore is missing (apt-get install iptables)")],
        programs: [
            (["ip", "netns", "list"], "`ip netns` does not work here"),
            (["cc", "--version"], "no C compiler for the capture shim (apt-get install gcc)"),
        ])

    static var available: Bool { missing == nil }
    static var reason: Comment { Comment(rawValue: missing ?? "") }
}

/// In CI the root-only suites must run: a reason to skip them fails the run instead.
@Test(.enabled(if: RootProbe.inCI)) func rootOnlySuitesRunInCI() {
    #expect(RootPrerequisites.missing == nil, "\(RootPrerequisites.missing ?? "")")
}

/// Our messages against the ones iptables-nft-restore itself sends for the same rules, captured
/// by this test in a fresh network namespace through `Fixtures/capture_netlink.c`: every rule
/// (NEWRULE) and every chain (NEWCHAIN) of a plan's nat and raw tables, in both families, byte
/// for byte but the sequence numbers. Intended differences, not compared: iptables-nft repeats
/// NEWTABLE before each object while the table is not in its cache (we send it once), and sends
/// revision probes and cache reads first (we know the revisions; a verb reads only its chains).
@Suite(.enabled(if: RootPrerequisites.available, RootPrerequisites.reason))
struct CapturedBatchTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The plan's tables as `iptables-restore` input, with the messages we send for the same
    /// objects, in the same order.
    static func restoreInput(_ plan: IPTablesFamilyPlan) throws -> (text: String, ours: [[UInt8]]) {
        var text = ""
        var ours: [[UInt8]] = []
        for (table, chains) in [("raw", plan.rawChains), ("nat", plan.chains)] where !chains.isEmpty {
            text += "*\(table)\n"
            for chain in chains {
                text += ":\(chain.name) - [0:0]\n"
                ours.append(NftMessages.newChain(NftChain(table: table, name: chain.name), family: plan.family, flags: .exclusive))
            }
            var baseChains: Set<String> = []
            for chain in chains {
                for rule in chain.rules {
                    text += rule.saveLine(chain: chain.name) + "\n"
                    ours.append(try message(rule, table: table, chain: chain.name, family: plan.family, flags: [.create, .append]))
                }
                for entry in chain.entryChains {
                    for rule in chain.entryRules {
                        if baseChains.insert(entry).inserted, let hook = NFTRuleTable.baseChain(entry, of: table) {
                            ours.append(NftMessages.newChain(NftChain(table: table, name: entry, hook: hook), family: plan.family, flags: .create))
                        }
                        let line = rule.saveLine(chain: entry)
                        text += (chain.prependEntry ? line.replacingOccurrences(of: "-A \(entry) ", with: "-I \(entry) 1 ") : line) + "\n"
                        ours.append(
                            try message(rule, table: table, chain: entry, family: plan.family, flags: chain.prependEntry ? .create : [.create, .append]))
                    }
                }
            }
            text += "COMMIT\n"
        }
        return (text, ours)
    }

    static func message(_ rule: IPTablesRule, table: String, chain: String, family: IPFamily, flags: NftMessages.Flags) throws -> [UInt8] {
        let encoded = try RuleExpressions.encode(rule, family: family)
        return NftMessages.newRule(NftRule(table: table, chain: chain, expressions: encoded.expressions, compat: encoded.compat), family: family, flags: flags)
    }

    /// The NEWCHAIN and NEWRULE messages of the batches in a capture, sequence numbers zeroed.
    static func objectMessages(_ capture: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= capture.count {
            let length = Int(capture[offset]) | Int(capture[offset + 1]) << 8 | Int(capture[offset + 2]) << 16 | Int(capture[offset + 3]) << 24
            let record = Array(capture[(offset + 4)..<min(offset + 4 + length, capture.count)])
            offset += 4 + length
            var inner = 0
            while inner + 16 <= record.count {
                let size = Int(record[inner]) | Int(record[inner + 1]) << 8 | Int(record[inner + 2]) << 16 | Int(record[inner + 3]) << 24
                guard size >= 16, inner + size <= record.count else { break }
                var message = Array(record[inner..<(inner + size)])
                let type = UInt16(message[4]) | UInt16(message[5]) << 8
                if type == 0x0A03 || type == 0x0A06 {  // NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE
                    message.replaceSubrange(8..<12, with: [0, 0, 0, 0])
                    messages.append(message)
                }
                inner += (size + 3) & ~3
            }
        }
        return messages
    }

    @Test(arguments: [IPFamily.ipv4, .ipv6])
    func ourMessagesAreIPTablesNFTRestores(_ family: IPFamily) throws {
        let namespaces = TestNamespaces(prefix: "nftcap")
        defer { namespaces.deleteAll() }
        let node = try namespaces.add("node")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("nftcap-\(namespaces.tag)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let shim = work.appendingPathComponent("capture.so").path
        try Subprocess.check(["cc", "-shared", "-fPIC", "-o", shim, Self.fixtures.appendingPathComponent("capture_netlink.c").path, "-ldl"])

        let json = #"""
            {"cniVersion": "1.0.0", "name": "cap", "conditionsV4": ["-i", "eth0"], "conditionsV6": ["!", "-s", "2001:db8:ffff::/48"],
             "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}, {"hostPort": 8053, "containerPort": 53, "protocol": "udp"},
              {"hostPort": 8443, "containerPort": 443, "hostIP": "192.0.2.2"}, {"hostPort": 8444, "containerPort": 444, "hostIP": "2001:db8:a::1"},
              {"hostPort": 9000, "containerPort": 90, "protocol": "sctp"}]}}
            """#
        let config = try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
        let address = family == .ipv4 ? IPNetwork("10.0.0.2/24")! : IPNetwork("2001:db8::2/64")!
        let (text, ours) = try Self.restoreInput(IPTablesPlanner.plan(config, containerID: "c1", container: address))
        let capture = work.appendingPathComponent("capture.bin").path
        try Subprocess.check(
            [
                "ip", "netns", "exec", node, "env", "LD_PRELOAD=\(shim)", "CAPTURE_NETLINK_FILE=\(capture)",
                family == .ipv4 ? "iptables-nft-restore" : "ip6tables-nft-restore", "--noflush",
            ], stdin: Array(text.utf8))
        let theirs = Self.objectMessages(Array(try Data(contentsOf: URL(fileURLWithPath: capture))))
        #expect(ours.count >= (family == .ipv4 ? 30 : 20), "the plan has its chains and rules")
        #expect(theirs.count == ours.count, "\(text)")
        for (index, (mine, captured)) in zip(ours, theirs).enumerated() {
            #expect(
                mine == captured,
                "message \(index) differs:\nours \(mine.map { String(format: "%02x", $0) }.joined())\ntheirs \(captured.map { String(format: "%02x", $0) }.joined())\n\(text)"
            )
        }
    }
}
