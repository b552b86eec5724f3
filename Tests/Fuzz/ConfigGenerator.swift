/// Builds a config from the fuzzer's bytes, each byte choosing one part: a version, the flags, up to
/// 8 mappings, conditions, a prevResult, GC's attachment list, from values near the edges of what
/// is accepted. Byte mutations of JSON text mostly break its syntax and rarely combine two valid
/// fields into a new meaning (an sctp mapping with an IPv6 hostIP); here every input is a config
/// and every mutation changes what it says. A zero byte chooses the ordinary value, so a short
/// input is a valid config and each byte more can make it unusual.
struct ConfigGenerator {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// The config as stdin text, written by the serializer under test.
    static func stdin(from bytes: ArraySlice<UInt8>) -> [UInt8] {
        var generator = ConfigGenerator(bytes)
        return Array(JSONValue.object(generator.config()).serialized(indent: nil).utf8)
    }

    private mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// One of `options`; the first (the ordinary choice) for a zero byte. nil leaves the key out.
    private mutating func pick(_ options: [JSONValue?]) -> JSONValue? {
        options[Int(byte()) % options.count]
    }

    private mutating func count(upTo limit: Int) -> Int {
        Int(byte()) % (limit + 1)
    }

    private static func strings(_ texts: [String?]) -> [JSONValue?] { texts.map { $0.map { .string($0) } } }
    private static func integers(_ numbers: [Int?]) -> [JSONValue?] { numbers.map { $0.map { .number(JSONNumber($0)) } } }

    // Each list: the ordinary value first, then other valid ones, then absent and the invalid ones.
    static let versions = strings(["1.0.0", "0.3.0", "0.3.1", "0.4.0", "1.1.0", nil, "0.2.0", "9.9.9", ""])
    static let names = strings(["net", "a.b-c_d", "hostport-dual", nil, "bad name", "", "-dash"])
    static let flags: [JSONValue?] = [nil, .bool(true), .bool(false), .string("yes"), .null]
    static let markBits = integers([nil, 0, 13, 31, 32, -1])
    static let markChains = strings([nil, "KUBE-MARK-MASQ", "", "A CHAIN", "CHAIN-NAME-LONGER-THAN-28-CHARS"])
    static let backends = strings([nil, "iptables", "nftables", "bogus"])
    static let tokens = strings([
        "-s", "10.0.0.0/8", "!", "-d", "-i", "-o", "-p", "--src", "--protocol", "-m", "0.0.0.0/0",
        "2001:db8::/32", "::/0", "192.0.2.1", "eth0", "eth+", "lo", "tcp", "UDP", "17", "all", "icmp",
    ])
    static let ports = integers([80, 8080, 1, 65535, 53, nil, 0, 65536]) + [.number(JSONNumber(literal: "-0")), .string("80"), .number(JSONNumber(literal: "80.0"))]
    static let protocols = strings([nil, "tcp", "udp", "sctp", "TCP", "Udp", "icmp", ""])
    static let hostIPs = strings([nil, "", "0.0.0.0", "::", "192.0.2.1", "192.0.2.2", "2001:db8:1::2", "::ffff:192.0.2.1", "1.2.3", "01.2.3.4"])
    static let interfaceNames = strings(["eth0", "cni0", nil, ""])
    static let sandboxes = strings(["/var/run/netns/pod", nil, ""])
    static let addresses = strings(["10.88.0.2/24", "2001:db8:89::2/64", "10.88.0.3/32", "::1/128", "fe80::1/64", nil, "10.0.0.300/24", "10.88.0.2"])
    static let interfaceIndices = integers([nil, 0, 1, 2, -1, 7])
    static let containerIDs = strings(["fuzz-ctr", "other-ctr", nil, "bad id"])
    static let attachmentKeys = ["cni.dev/valid-attachments", "cni.dev/attachments"]

    /// An object with each of `fields` present or not, with a value from its options.
    private mutating func object(_ fields: [(key: String, options: [JSONValue?])], into object: JSONObject = JSONObject()) -> JSONObject {
        var object = object
        for field in fields {
            if let value = pick(field.options) { object[field.key] = value }
        }
        return object
    }

    /// Absent, or an array of up to `limit - 1` elements.
    private mutating func array(upTo limit: Int, _ element: (inout ConfigGenerator) -> JSONValue?) -> JSONValue? {
        let length = count(upTo: limit)
        guard length > 0 else { return nil }
        return .array((1..<length).compactMap { _ in element(&self) })
    }

    mutating func config() -> JSONObject {
        var config = object(
            [
                ("cniVersion", Self.versions), ("name", Self.names), ("snat", Self.flags), ("masqAll", Self.flags),
                ("localnetGuard", Self.flags), ("markMasqBit", Self.markBits), ("externalSetMarkChain", Self.markChains),
                ("backend", Self.backends),
            ], into: JSONObject([("type", .string("portmap"))]))
        for key in ["conditionsV4", "conditionsV6"] {
            config[key] = array(upTo: 7) { $0.pick(Self.tokens) }
        }
        if let mappings = array(
            upTo: 9,
            {
                .object(
                    $0.object([
                        ("hostPort", Self.ports), ("containerPort", Self.ports),
                        ("protocol", Self.protocols), ("hostIP", Self.hostIPs),
                    ]))
            })
        {
            config["runtimeConfig"] = .object(JSONObject([("portMappings", mappings)]))
        }
        if byte() % 4 == 0 { config["prevResult"] = .object(prevResult()) }
        if let attachments = array(upTo: 4, { .object(JSONObject([("containerID", $0.pick(Self.containerIDs) ?? .null), ("ifname", .string("eth0"))])) }) {
            config[Self.attachmentKeys[Int(byte()) % 2]] = byte() % 8 == 7 ? .null : attachments
        }
        return config
    }

    private mutating func prevResult() -> JSONObject {
        var result = object([("cniVersion", Self.versions)])
        result["interfaces"] = array(upTo: 3) { .object($0.object([("name", Self.interfaceNames), ("sandbox", Self.sandboxes)])) }
        result["ips"] = array(upTo: 4) { .object($0.object([("address", Self.addresses), ("interface", Self.interfaceIndices)])) }
        return result
    }
}
