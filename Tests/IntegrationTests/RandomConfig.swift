import Foundation

/// A seeded source of portmap configs for the differential run against the Go plugin: the ways a
/// config can differ that have made us differ before (issue 13): key spellings in any case (the
/// Kelvin sign and long s included), keys given twice, protocol spellings, container IDs long
/// enough to cut the comment, duplicate claims, conditions, hostIPs of either family, marks, and
/// IPv4, IPv6 or both. Each config is written as JSON text, so repeated keys reach both plugins.
struct RandomConfig {
    let index: Int
    let containerID: String
    let cniVersion: String
    let stdin: Data
    let hasIPv6: Bool

    /// The text, for a failure message to be replayed by hand.
    var text: String { String(decoding: stdin, as: UTF8.self) }

    /// The chain every config may name as `externalSetMarkChain` (made in each lab first).
    static let markChain = "KUBE-MARK-MASQ"

    /// The `count` configs of `seed`, the same on every run.
    static func generate(seed: UInt64, count: Int) -> [RandomConfig] {
        var generator = Generator(state: seed)
        return (0..<count).map { generator.config(index: $0) }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast and the same everywhere, so a seed names a run.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// JSON text with members in the order given and keys repeated where asked.
private indirect enum Text {
    case object([(String, Text)])
    case array([Text])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null

    var rendered: String {
        switch self {
        case .object(let members): "{" + members.map { "\(Self.quoted($0.0)): \($0.1.rendered)" }.joined(separator: ", ") + "}"
        case .array(let elements): "[" + elements.map(\.rendered).joined(separator: ", ") + "]"
        case .string(let text): Self.quoted(text)
        case .int(let value): String(value)
        case .bool(let flag): String(flag)
        case .null: "null"
        }
    }

    /// Only what the generator writes needs escaping: quotes and backslashes.
    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

private struct Generator {
    var random: SplitMix64

    init(state: UInt64) { random = SplitMix64(state: state) }

    mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }

    mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    /// `name` as a conflist might spell it: mostly as is, else in random letter case, now and then
    /// with the two non-ASCII letters Go folds to k and s.
    mutating func spelled(_ name: String) -> String {
        guard chance(0.3) else { return name }
        let exotic = chance(0.15)
        return String(
            name.unicodeScalars.map { scalar -> String in
                if exotic, scalar == "k" || scalar == "K" { return "\u{212A}" }
                if exotic, scalar == "s" || scalar == "S" { return "\u{017F}" }
                return chance(0.5) ? String(scalar).uppercased() : String(scalar).lowercased()
            }.joined())
    }

    mutating func config(index: Int) -> RandomConfig {
        let containerID =
            chance(0.25)
            ? String((0..<number(200...250)).map { _ in pick(Array("abcdef0123456789")) })
            : "ctr-rand-\(index)-\(String(random.next() % 0xFFFF, radix: 16))"
        let families = pick([["4"], ["4"], ["4", "6"], ["4", "6"], ["6"]])
        let cniVersion = pick(["1.0.0", "1.0.0", "0.4.0", "0.3.1"])
        var members: [(String, Text)] = [
            (spelled("cniVersion"), .string(cniVersion)),
            (spelled("name"), .string("rand-net")), ("type", .string("portmap")),
        ]
        switch number(0...9) {
        case 0...3: break
        case 4...5: members.append((spelled("snat"), .bool(true)))
        default: members.append((spelled("snat"), .bool(false)))
        }
        if chance(0.1) {
            members.append((spelled("externalSetMarkChain"), .string(RandomConfig.markChain)))
        } else if chance(0.2) {
            members.append((spelled("markMasqBit"), .int(number(0...31))))
        }
        for family in ["4", "6"] where chance(0.25) {
            members.append((spelled("conditionsV\(family)"), conditions(family)))
        }
        let mappings = (0..<number(1...5)).map { _ in mapping() }
        members.append((spelled("runtimeConfig"), .object([(spelled("portMappings"), .array(mappings.map { .object($0) }))])))
        if chance(0.2) { members += repeatedKeys(mappings) }
        members.append((spelled("prevResult"), prevResult(families: families, index: index, version: cniVersion)))
        if chance(0.5) { members.shuffle(using: &self) }
        return RandomConfig(
            index: index, containerID: containerID, cniVersion: cniVersion, stdin: Data(Text.object(members).rendered.utf8),
            hasIPv6: families.contains("6"))
    }

    /// Mostly conditions the plugin parses; sometimes one it does not (a match it does not know).
    mutating func conditions(_ family: String) -> Text {
        let source = family == "4" ? "192.0.2.0/24" : "2001:db8:ffff::/48"
        let choices: [[String]] = [
            ["-s", source], ["!", "-s", source], ["!", "-i", "eth9"], ["-i", "eth9", "!", "-s", source],
            ["-m", "comment", "--comment", "x"], [],
        ]
        return .array(pick(choices).map { .string($0) })
    }

    mutating func mapping() -> [(String, Text)] {
        var members: [(String, Text)] = [
            (spelled("hostPort"), .int(chance(0.03) ? pick([0, 70000]) : pick([8080, 8081, 8082, 5353, number(9000...9010)]))),
            (spelled("containerPort"), .int(pick([80, 81, 53, 443]))),
            (spelled("protocol"), .string(pick(["tcp", "tcp", "TCP", "Tcp", "udp", "udp", "UDP", "sctp"]))),
        ]
        switch number(0...19) {
        case 0...9: break
        case 10: members.append((spelled("hostIP"), .string("")))
        case 11...12: members.append((spelled("hostIP"), .string("0.0.0.0")))
        case 13: members.append((spelled("hostIP"), .string("::")))
        case 14...16: members.append((spelled("hostIP"), .string("192.0.2.1")))
        default: members.append((spelled("hostIP"), .string("2001:db8:1::1")))
        }
        if chance(0.5) { members.shuffle(using: &self) }
        return members
    }

    /// A second spelling of a key after the first: decoded into what the first left (a partial
    /// mapping list, a null for an option, an element-wise condition list).
    mutating func repeatedKeys(_ mappings: [[(String, Text)]]) -> [(String, Text)] {
        switch number(0...3) {
        case 0:
            let partial: [Text] = mappings.prefix(number(1...max(1, mappings.count))).map { _ in
                chance(0.5) ? .object([("hostPort", .int(pick([8083, 8084])))]) : .object([("protocol", .string(pick(["udp", "tcp"])))])
            }
            return [(spelled("RuntimeConfig"), .object([("portMappings", .array(partial))]))]
        case 1: return [("SNAT", .null)]
        case 2: return [(spelled("markMasqBit"), chance(0.5) ? .null : .int(number(0...31)))]
        default: return [("conditionsv4", .array([.null, .null]))]
        }
    }

    /// In the config's version, as libcni converts it (before 1.0.0 each IP names its version).
    mutating func prevResult(families: [String], index: Int, version: String) -> Text {
        let host = 2 + index % 250
        let ips: [Text] = families.map { family in
            var ip: [(String, Text)] = [
                (spelled("address"), .string(family == "4" ? "10.88.0.\(host)/24" : "2001:db8:89::\(host)/64")),
                ("interface", .int(0)),
            ]
            if version != "1.0.0" { ip.append(("version", .string(family))) }
            return .object(ip)
        }
        return .object([
            ("cniVersion", .string(version)),
            (spelled("interfaces"), .array([.object([("name", .string("eth0")), ("sandbox", .string("/var/run/netns/pod"))])])),
            (spelled("ips"), .array(ips)),
        ])
    }
}

extension Generator: RandomNumberGenerator {
    mutating func next() -> UInt64 { random.next() }
}
