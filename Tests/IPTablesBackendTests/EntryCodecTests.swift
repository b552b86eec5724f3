import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

/// Golden bytes: each expected entry is assembled from what Debian's iptables-legacy 1.8.9 wrote to
/// the kernel (read back through libiptc on this machine, while the Go portmap 1.1.1 created its
/// rules), so our entries are the ones `iptables -D`/`-C` of the Go plugin recognize.
struct EntryCodecTests {
    /// An entry: the `ipt_ip`/`ip6t_ip6` header as dumped, then matches and target.
    static func entry(_ family: IPFamily, ip: String, matches: [(String, UInt8, String)], target: (String, UInt8, String)) -> [UInt8] {
        func ext(_ name: String, _ revision: UInt8, _ payload: [UInt8]) -> [UInt8] {
            let size = 32 + payload.count
            return [UInt8(size & 0xFF), UInt8(size >> 8)] + Array(name.utf8) + [UInt8](repeating: 0, count: 29 - name.utf8.count)
                + [revision] + payload
        }
        let body = matches.flatMap { ext($0.0, $0.1, hex($0.2)) }
        let tail = ext(target.0, target.1, hex(target.2))
        let headerSize = family == .ipv4 ? 112 : 168
        let ipBytes = hex(ip)
        let targetOffset = headerSize + body.count
        let nextOffset = targetOffset + tail.count
        // nfcache (4), target_offset (2), next_offset (2), comefrom (4), [pad to 8 for ipv6], counters (16)
        var header = ipBytes + [0, 0, 0, 0, UInt8(targetOffset & 0xFF), UInt8(targetOffset >> 8), UInt8(nextOffset & 0xFF), UInt8(nextOffset >> 8)]
        header += [UInt8](repeating: 0, count: headerSize - header.count)
        return header + body + tail
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static let zeroIPv4 = String(repeating: "0", count: 160)
    static let standardTarget = String(repeating: "0", count: 16)
    static let comment = #"dnat name: "test" id: "abc123""#
    static func commentPayload(_ text: String) -> String {
        Array(text.utf8).map { String(format2: $0) }.joined() + String(repeating: "00", count: 256 - text.utf8.count)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let rule: IPTablesRule
        let family: IPFamily
        let expected: [UInt8]
        var testDescription: String { rule.saveLine(chain: family == .ipv4 ? "v4" : "v6") }
    }

    static let cases: [Case] = [
        // -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
        Case(
            rule: IPTablesRule(matches: [.destinationTypeLocal], target: .jump("CNI-HOSTPORT-DNAT")), family: .ipv4,
            expected: entry(
                .ipv4, ip: zeroIPv4 + "00000000", matches: [("addrtype", 1, "0000040000000000")],
                target: ("CNI-HOSTPORT-DNAT", 0, standardTarget))),
        // -A CNI-DN-… -s 10.0.0.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
        Case(
            rule: IPTablesRule(
                source: Inverted(IPNetwork("10.0.0.0/24")!), protocolNumber: Inverted(6),
                matches: [.destinationPort(.tcp, 8080)], target: .jump("CNI-HOSTPORT-SETMARK")), family: .ipv4,
            expected: entry(
                .ipv4, ip: "0a00000000000000ffffff00" + String(repeating: "0", count: 136) + "06000000",
                matches: [("tcp", 0, "0000ffff901f901f0000000000000000")], target: ("CNI-HOSTPORT-SETMARK", 0, standardTarget))),
        // -A CNI-DN-… -d 192.168.0.2/32 -p tcp -m tcp --dport 8083 -j DNAT --to-destination 10.0.0.2:83
        Case(
            rule: IPTablesRule(
                destination: Inverted(IPNetwork("192.168.0.2/32")!), protocolNumber: Inverted(6),
                matches: [.destinationPort(.tcp, 8083)], target: .dnat(IPAddress("10.0.0.2")!, port: 83)), family: .ipv4,
            expected: entry(
                .ipv4, ip: "00000000c0a8000200000000ffffffff" + String(repeating: "0", count: 128) + "06000000",
                matches: [("tcp", 0, "0000ffff931f931f0000000000000000")],
                target: ("DNAT", 2, "030000000a0000020000000000000000000000000a000002000000000000000000000000005300530000000000000000"))),
        // -A CNI-DN-… -s 127.0.0.1/32 -p udp -m udp --dport 8082 -j CNI-HOSTPORT-SETMARK
        Case(
            rule: IPTablesRule(
                source: Inverted(IPNetwork("127.0.0.1/32")!), protocolNumber: Inverted(17),
                matches: [.destinationPort(.udp, 8082)], target: .jump("CNI-HOSTPORT-SETMARK")), family: .ipv4,
            expected: entry(
                .ipv4, ip: "7f00000100000000ffffffff" + String(repeating: "0", count: 136) + "11000000",
                matches: [("udp", 0, "0000ffff921f921f0000000000000000")], target: ("CNI-HOSTPORT-SETMARK", 0, standardTarget))),
        // -A CNI-DN-… -p sctp -m sctp --dport 8087 -j DNAT --to-destination 10.0.0.2:87
        Case(
            rule: IPTablesRule(
                protocolNumber: Inverted(132), matches: [.destinationPort(.sctp, 8087)],
                target: .dnat(IPAddress("10.0.0.2")!, port: 87)), family: .ipv4,
            expected: entry(
                .ipv4, ip: zeroIPv4 + "84000000",
                matches: [("sctp", 0, "971f971f00000000" + String(repeating: "0", count: 512) + "00000000ff0000ff0000ff0000ff000000000000020000000000000000000000")],
                target: ("DNAT", 2, "030000000a0000020000000000000000000000000a000002000000000000000000000000005700570000000000000000"))),
        // -A CNI-HOSTPORT-DNAT -s 192.0.2.0/24 ! -i eth9 -p tcp -m comment … -m multiport --dports 8080,8081,8083,8084,8085,8086 -j CNI-DN-…
        Case(
            rule: IPTablesRule(
                source: Inverted(IPNetwork("192.0.2.0/24")!), inInterface: Inverted("eth9", true), protocolNumber: Inverted(6),
                matches: [.comment(comment), .multiportDestination([8080, 8081, 8083, 8084, 8085, 8086])],
                target: .jump("CNI-DN-0c4de534d24965339ca8c")), family: .ipv4,
            expected: entry(
                .ipv4,
                ip:
                    "c000020000000000ffffff00000000006574683900000000000000000000000000000000000000000000000000000000ffffffffff00000000000000000000000000000000000000000000000000000006000001",
                matches: [
                    ("comment", 0, commentPayload(comment)),
                    ("multiport", 1, "0106901f911f931f941f951f961f00000000000000000000000000000000000000000000000000000000000000000000"),
                ],
                target: ("CNI-DN-0c4de534d24965339ca8c", 0, standardTarget))),
        // -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
        Case(
            rule: IPTablesRule(matches: [.mark(value: 0x2000, mask: 0x2000)], target: .masquerade), family: .ipv4,
            expected: entry(
                .ipv4, ip: zeroIPv4 + "00000000", matches: [("mark", 1, "00200000002000000000000000000000")],
                target: ("MASQUERADE", 0, "010000000000000000000000000000000000000000000000"))),
        // -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
        Case(
            rule: IPTablesRule(matches: [.comment("CNI portfwd masquerade mark")], target: .setMark(value: 0x2000, mask: 0x2000)), family: .ipv4,
            expected: entry(
                .ipv4, ip: zeroIPv4 + "00000000", matches: [("comment", 0, commentPayload("CNI portfwd masquerade mark"))],
                target: ("MARK", 2, "0020000000200000"))),
        // ip6tables: -A CNI-DN-… -p tcp -m tcp --dport 8080 -j DNAT --to-destination [2001:db8::2]:80
        Case(
            rule: IPTablesRule(
                protocolNumber: Inverted(6), matches: [.destinationPort(.tcp, 8080)],
                target: .dnat(IPAddress("2001:db8::2")!, port: 80)), family: .ipv6,
            expected: entry(
                .ipv6, ip: String(repeating: "0", count: 256) + "0600000100000000",
                matches: [("tcp", 0, "0000ffff901f901f0000000000000000")],
                target: ("DNAT", 2, "0300000020010db800000000000000000000000220010db8000000000000000000000002005000500000000000000000"))),
        // ip6tables: -A CNI-DN-… -s 2001:db8::/64 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK
        Case(
            rule: IPTablesRule(
                source: Inverted(IPNetwork("2001:db8::/64")!), protocolNumber: Inverted(6),
                matches: [.destinationPort(.tcp, 8080)], target: .jump("CNI-HOSTPORT-SETMARK")), family: .ipv6,
            expected: entry(
                .ipv6, ip: "20010db8" + String(repeating: "0", count: 56) + "ffffffffffffffff" + String(repeating: "0", count: 176) + "0600000100000000",
                matches: [("tcp", 0, "0000ffff901f901f0000000000000000")], target: ("CNI-HOSTPORT-SETMARK", 0, standardTarget))),
        // ip6tables: -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
        Case(
            rule: IPTablesRule(matches: [.mark(value: 0x2000, mask: 0x2000)], target: .masquerade), family: .ipv6,
            expected: entry(
                .ipv6, ip: String(repeating: "0", count: 272), matches: [("mark", 1, "00200000002000000000000000000000")],
                target: ("MASQUERADE", 0, String(repeating: "0", count: 80)))),
    ]

    @Test(arguments: cases)
    func encodesLikeIPTablesLegacy(_ testCase: Case) throws {
        let encoded = try EntryCodec.encode(testCase.rule, family: testCase.family)
        #expect(encoded.count == testCase.expected.count)
        #expect(encoded == testCase.expected)
    }

    /// Reading back yields the same value. For a jump, the kernel (and libiptc after placing it)
    /// holds a standard target with an empty name, and libiptc supplies the chain's name.
    @Test(arguments: cases)
    func decodesWhatItEncodes(_ testCase: Case) throws {
        var encoded = try EntryCodec.encode(testCase.rule, family: testCase.family)
        let targetName: String
        switch testCase.rule.target {
        case .jump(let chain):
            targetName = chain
            let targetOffset = Int(encoded[testCase.family == .ipv4 ? 88 : 140]) | Int(encoded[testCase.family == .ipv4 ? 89 : 141]) << 8
            encoded.replaceSubrange((targetOffset + 2)..<(targetOffset + 31), with: [UInt8](repeating: 0, count: 29))
        case .dnat: targetName = "DNAT"
        case .setMark: targetName = "MARK"
        default: targetName = "MASQUERADE"
        }
        #expect(EntryCodec.decode(encoded[...], targetName: targetName, family: testCase.family) == testCase.rule)
    }

    /// Shapes we do not write (an inverted tcp port, another revision) never decode as ours.
    @Test func foreignShapesStayOther() throws {
        var bytes = try EntryCodec.encode(Self.cases[1].rule, family: .ipv4)
        bytes[112 + 32 + 11] = 0x02  // xt_tcp.invflags: ! --dport
        let decoded = try #require(EntryCodec.decode(bytes[...], targetName: "CNI-HOSTPORT-SETMARK", family: .ipv4))
        guard case .other(name: "tcp", revision: 0, data: _) = decoded.matches.first else {
            Issue.record("decoded \(decoded.matches)")
            return
        }
    }

    @Test func truncatedEntriesDoNotDecode() throws {
        let bytes = try EntryCodec.encode(Self.cases[2].rule, family: .ipv4)
        #expect(EntryCodec.decode(bytes[0..<150], targetName: "DNAT", family: .ipv4) == nil)
        #expect(EntryCodec.decode(bytes[0..<40], targetName: "DNAT", family: .ipv4) == nil)
    }

    @Test func refusesWhatTheKernelCannotHold() {
        #expect(throws: RuleEncodingError.self) {
            try EntryCodec.encode(IPTablesRule(matches: [.comment(String(repeating: "x", count: 256))], target: .masquerade), family: .ipv4)
        }
        #expect(throws: RuleEncodingError.self) {
            try EntryCodec.encode(IPTablesRule(target: .dnat(IPAddress("2001:db8::1")!, port: 1)), family: .ipv4)
        }
        #expect(throws: RuleEncodingError.self) {
            try EntryCodec.encode(IPTablesRule(matches: [.multiportDestination(Array(1...16))], target: .masquerade), family: .ipv4)
        }
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        self = (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}

/// The extensions STATUS looks up in /proc/net/ip{,6}_tables_{matches,targets}: the names the
/// encoded entry asks the kernel for; a jump or verdict needs no extension.
struct ExtensionNameTests {
    @Test(arguments: IPFamily.allCases)
    func namesComeFromTheEncodedEntry(family: IPFamily) throws {
        let entry = IPTablesRule(protocolNumber: Inverted(6), matches: [.comment("c"), .multiportDestination([80, 81])], target: .jump("CNI-DN-x"))
        let names = try EntryCodec.extensionNames(of: entry, family: family)
        #expect(names.matches == ["comment", "multiport"] && names.target == nil)
        let address = family == .ipv4 ? IPAddress("10.0.0.1")! : IPAddress("2001:db8::1")!
        let dnat = try EntryCodec.extensionNames(
            of: IPTablesRule(
                protocolNumber: Inverted(17), matches: [.destinationPort(.udp, 53)],
                target: .dnat(address, port: 53)), family: family)
        #expect(dnat.matches == ["udp"] && dnat.target == "DNAT")
        let masquerade = try EntryCodec.extensionNames(of: IPTablesRule(matches: [.mark(value: 1, mask: 1), .destinationTypeLocal], target: .masquerade), family: family)
        #expect(masquerade.matches == ["mark", "addrtype"] && masquerade.target == "MASQUERADE")
        let drop = try EntryCodec.extensionNames(of: IPTablesRule(target: .verdict("DROP")), family: family)
        #expect(drop.matches.isEmpty && drop.target == nil)
    }
}
