internal import CNftnl
import PortmapCore

/// The table every container shares (`NFTablesLayout`) as the kernel objects that make it up,
/// described exactly as nft 1.0.6 sends them for `NFTablesPlanner.script`: the same chains, the
/// same set types, lengths and userdata, the same expressions in the same registers. So the table
/// the plugin builds is the one `nft -f` would load, and `nft list table` shows it as the script.
///
/// Reads only constants from `CNftnl`; `NftnlMessages` turns the description into messages.
struct TableLayout {
    struct Chain {
        var name: String
        /// nil for the dispatch chain, which only base chains jump to.
        var hook: Hook?
    }

    struct Hook {
        /// `nat` or `filter`.
        var type: String
        var number: UInt32
        var priority: Int32
    }

    struct SetDefinition {
        var set: NFTablesElement.Set
        /// NFT_SET_MAP, or NFT_SET_INTERVAL | NFT_SET_CONCAT.
        var flags: UInt32
        /// nft's data type numbers, six bits per field of a concatenation.
        var keyType: UInt32
        var keyLength: UInt32
        var dataType: UInt32?
        var dataLength: UInt32?
        /// NFTA_SET_DESC_CONCAT: the length of each key field, which an interval set of
        /// concatenations needs (the kernel's pipapo matches field by field).
        var fieldLengths: [UInt8]
        var userdata: [Userdata]
    }

    /// nft's own bookkeeping in a set's NFTA_SET_USERDATA, which `nft list` reads back to print the
    /// set's type: the byte orders and the `typeof` nests of key and data.
    indirect enum Userdata: Sendable {
        case u32(UInt8, UInt32)
        case nest(UInt8, [Userdata])
    }

    struct Rule {
        var chain: String
        var expressions: [Expression]
    }

    /// The expressions of the plugin's rules, with the attributes nft sets for each.
    enum Expression {
        case payload(base: UInt32, offset: UInt32, length: UInt32, into: UInt32)
        case meta(key: UInt32, into: UInt32)
        case conntrack(key: UInt32, into: UInt32)
        case bitwise(register: UInt32, length: UInt32, mask: [UInt8], xor: [UInt8])
        case compare(register: UInt32, operation: UInt32, data: [UInt8])
        case fib(flags: UInt32, result: UInt32, into: UInt32)
        /// A set lookup; with `into`, a map's value lands there.
        case lookup(NFTablesElement.Set, from: UInt32, into: UInt32?)
        case dnat(family: UInt32, address: UInt32, port: UInt32)
        case masquerade
        case jump(String)
        case drop
    }

    let chains: [Chain]
    let sets: [SetDefinition]
    let rules: [Rule]

    init(_ family: IPFamily) {
        let address = family == .ipv4 ? Self.ipv4Address : Self.ipv6Address
        let addressLength = UInt32(family.addressBits / 8)
        let protocolFamily = UInt32(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6)
        // nft's register for a value starting in the n-th 32-bit slot (see `Self.register`): an
        // IPv6 address fills four slots, so what follows it moves on.
        let afterAddress = UInt32(addressLength / 4)
        let nat = Hook(type: "nat", number: UInt32(NF_INET_PRE_ROUTING.rawValue), priority: NF_IP_PRI_NAT_DST.rawValue)

        chains =
            [
                Chain(name: NFTablesLayout.dispatchChain, hook: nil),
                Chain(name: "prerouting", hook: nat),
                Chain(name: "output", hook: Hook(type: "nat", number: UInt32(NF_INET_LOCAL_OUT.rawValue), priority: -100)),
                Chain(
                    name: "postrouting",
                    hook: Hook(
                        type: "nat", number: UInt32(NF_INET_POST_ROUTING.rawValue),
                        priority: NF_IP_PRI_NAT_SRC.rawValue)),
            ]
            + (family == .ipv4
                ? [
                    Chain(
                        name: NFTablesLayout.guardChain,
                        hook: Hook(
                            type: "filter", number: UInt32(NF_INET_PRE_ROUTING.rawValue),
                            priority: NF_IP_PRI_RAW.rawValue))
                ] : [])

        let mapUserdata: [Userdata] = [
            .u32(Self.keyByteOrder, 0), .u32(Self.dataByteOrder, 0),
            .nest(Self.keyTypeof, Self.concatenationTypeof), .nest(Self.dataTypeof, Self.concatenationTypeof),
            .u32(Self.dataInterval, 0),
        ]
        let map = UInt32(NFT_SET_MAP.rawValue)
        sets = [
            SetDefinition(
                set: .hostIPDNAT, flags: map, keyType: Self.concatenation(address, Self.inetProtocol, Self.inetService),
                keyLength: addressLength + 8, dataType: Self.concatenation(address, Self.inetService),
                dataLength: addressLength + 4, fieldLengths: [], userdata: mapUserdata),
            SetDefinition(
                set: .hostPortDNAT, flags: map, keyType: Self.concatenation(Self.inetProtocol, Self.inetService),
                keyLength: 8, dataType: Self.concatenation(address, Self.inetService),
                dataLength: addressLength + 4, fieldLengths: [], userdata: mapUserdata),
            SetDefinition(
                set: .masquerade, flags: UInt32(NFT_SET_INTERVAL.rawValue | NFT_SET_CONCAT.rawValue),
                keyType: Self.concatenation(address, address), keyLength: 2 * addressLength,
                dataType: nil, dataLength: nil, fieldLengths: [UInt8(addressLength), UInt8(addressLength)],
                userdata: [.u32(Self.keyByteOrder, 0), .nest(Self.keyTypeof, Self.concatenationTypeof)]),
        ]

        let network = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue)
        let transport = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
        let l4proto = UInt32(NFT_META_L4PROTO.rawValue)
        // Where the addresses are in the IPv4 and IPv6 headers.
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .ipv4 ? (12, 16) : (8, 24)
        let destinationPort: (UInt32) -> Expression = { .payload(base: transport, offset: 2, length: 2, into: Self.register($0)) }
        let toDispatch: [Expression] = [
            .fib(flags: UInt32(NFTA_FIB_F_DADDR.rawValue), result: UInt32(NFT_FIB_RESULT_ADDRTYPE.rawValue), into: Self.register(0)),
            .compare(register: Self.register(0), operation: UInt32(NFT_CMP_EQ.rawValue), data: Self.hostOrder(UInt32(RTN_LOCAL))),
            .jump(NFTablesLayout.dispatchChain),
        ]
        rules =
            [
                // dnat to <daddr> . meta l4proto . th dport map @hostip_dnat
                Rule(
                    chain: NFTablesLayout.dispatchChain,
                    expressions: [
                        .payload(base: network, offset: destinationOffset, length: addressLength, into: Self.register(0)),
                        .meta(key: l4proto, into: Self.register(afterAddress)),
                        destinationPort(afterAddress + 1),
                        .lookup(.hostIPDNAT, from: Self.register(0), into: Self.register(0)),
                        .dnat(family: protocolFamily, address: Self.register(0), port: Self.register(afterAddress)),
                    ]),
                // dnat to meta l4proto . th dport map @hostport_dnat
                Rule(
                    chain: NFTablesLayout.dispatchChain,
                    expressions: [
                        .meta(key: l4proto, into: Self.register(0)),
                        destinationPort(1),
                        .lookup(.hostPortDNAT, from: Self.register(0), into: Self.register(0)),
                        .dnat(family: protocolFamily, address: Self.register(0), port: Self.register(afterAddress)),
                    ]),
                // fib daddr type local jump hostports
                Rule(chain: "prerouting", expressions: toDispatch),
                Rule(chain: "output", expressions: toDispatch),
                // ct status dnat <saddr> . <daddr> @masq_pairs masquerade
                Rule(
                    chain: "postrouting",
                    expressions: [
                        .conntrack(key: UInt32(NFT_CT_STATUS.rawValue), into: Self.register(0)),
                        .bitwise(register: Self.register(0), length: 4, mask: Self.hostOrder(UInt32(IPS_DST_NAT.rawValue)), xor: Self.hostOrder(0)),
                        .compare(register: Self.register(0), operation: UInt32(NFT_CMP_NEQ.rawValue), data: Self.hostOrder(0)),
                        .payload(base: network, offset: sourceOffset, length: addressLength, into: Self.register(0)),
                        .payload(base: network, offset: destinationOffset, length: addressLength, into: Self.register(afterAddress)),
                        .lookup(.masquerade, from: Self.register(0), into: nil),
                        .masquerade,
                    ]),
            ]
            + (family == .ipv4
                ? [
                    // iifname != "lo" ip daddr 127.0.0.0/8 drop: nft compares the first byte only.
                    Rule(
                        chain: NFTablesLayout.guardChain,
                        expressions: [
                            .meta(key: UInt32(NFT_META_IIFNAME.rawValue), into: Self.register(0)),
                            .compare(
                                register: Self.register(0), operation: UInt32(NFT_CMP_NEQ.rawValue),
                                data: Array("lo".utf8) + [UInt8](repeating: 0, count: 14)),
                            .payload(base: network, offset: destinationOffset, length: 1, into: Self.register(0)),
                            .compare(register: Self.register(0), operation: UInt32(NFT_CMP_EQ.rawValue), data: [127]),
                            .drop,
                        ])
                ] : [])
    }

    /// nft numbers registers in 32-bit slots and names a slot that starts a 128-bit register by
    /// that register (NFT_REG_1...), any other by its 32-bit name (NFT_REG32_01...).
    static func register(_ slot: UInt32) -> UInt32 {
        slot % 4 == 0 ? UInt32(NFT_REG_1.rawValue) + slot / 4 : UInt32(NFT_REG32_00.rawValue) + slot
    }

    /// A 32-bit value as registers hold it for `cmp` and `bitwise`: in host order.
    static func hostOrder(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    // MARK: - nft's numbers (nftables 1.0.6 `include/datatype.h`, `include/expression.h`, `include/rule.h`)

    static let ipv4Address: UInt32 = 7
    static let ipv6Address: UInt32 = 8
    static let inetProtocol: UInt32 = 12
    static let inetService: UInt32 = 13

    /// A concatenation's type: each field's type appended in six more bits.
    static func concatenation(_ types: UInt32...) -> UInt32 {
        types.reduce(0) { $0 << 6 | $1 }
    }

    static let keyByteOrder = UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue)
    static let dataByteOrder = UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue)
    static let keyTypeof = UInt8(NFTNL_UDATA_SET_KEY_TYPEOF.rawValue)
    static let dataTypeof = UInt8(NFTNL_UDATA_SET_DATA_TYPEOF.rawValue)
    static let dataInterval = UInt8(NFTNL_UDATA_SET_DATA_INTERVAL.rawValue)
    /// The `typeof` nest nft writes for a concatenation declared with `type`: the expression kind
    /// (EXPR_CONCAT, 13) and no further data.
    static let concatenationTypeof: [Userdata] = [
        .u32(UInt8(NFTNL_UDATA_SET_TYPEOF_EXPR), 13),
        .nest(UInt8(NFTNL_UDATA_SET_TYPEOF_DATA), []),
    ]
}
