import Nftnl
import PortmapCore

/// The table every container shares (`NFTablesLayout`) as the kernel objects that make it up,
/// described exactly as nft 1.0.6 sends them for `NFTablesPlanner.script`: the same chains, the
/// same set types, lengths and userdata, the same expressions in the same registers. So the table
/// the plugin builds is the one `nft -f` would load, and `nft list table` shows it as the script.
///
/// In `Nftnl`'s vocabulary; `TableMessages` turns the description into messages.
struct TableLayout {
    let chains: [NftChain]
    let sets: [NftSet]
    let rules: [NftRule]

    init(_ family: IPFamily) {
        let address = family == .ipv4 ? Self.ipv4Address : Self.ipv6Address
        let addressLength = UInt32(family.addressBits / 8)
        let protocolFamily = family == .ipv4 ? NftConstants.ipv4 : NftConstants.ipv6
        // nft's register for a value starting in the n-th 32-bit slot (see `Self.register`): an
        // IPv6 address fills four slots, so what follows it moves on.
        let afterAddress = UInt32(addressLength / 4)
        let nat = NftHook(type: "nat", number: NftConstants.hookPrerouting, priority: NftConstants.priorityNATDestination)

        chains =
            [
                NftChain(table: NFTablesLayout.table, name: NFTablesLayout.dispatchChain, hook: nil),
                NftChain(table: NFTablesLayout.table, name: "prerouting", hook: nat),
                NftChain(table: NFTablesLayout.table, name: "output", hook: NftHook(type: "nat", number: NftConstants.hookOutput, priority: -100)),
                NftChain(
                    table: NFTablesLayout.table, name: "postrouting",
                    hook: NftHook(type: "nat", number: NftConstants.hookPostrouting, priority: NftConstants.priorityNATSource)),
            ]
            + (family == .ipv4
                ? [
                    NftChain(
                        table: NFTablesLayout.table, name: NFTablesLayout.guardChain,
                        hook: NftHook(type: "filter", number: NftConstants.hookPrerouting, priority: NftConstants.priorityRaw))
                ] : [])

        let mapUserdata: [NftUserdata] = [
            .u32(Self.keyByteOrder, 0), .u32(Self.dataByteOrder, 0),
            .nest(Self.keyTypeof, Self.concatenationTypeof), .nest(Self.dataTypeof, Self.concatenationTypeof),
            .u32(Self.dataInterval, 0),
        ]
        // Every set takes timeouts: DEL and GC expire elements instead of deleting them (`ElementExpiry`).
        let map = NftConstants.setMap | NftConstants.setTimeout
        sets = [
            NftSet(
                table: NFTablesLayout.table, name: NFTablesElement.Set.hostIPDNAT.rawValue, flags: map,
                keyType: Self.concatenation(address, Self.inetProtocol, Self.inetService),
                keyLength: addressLength + 8, dataType: Self.concatenation(address, Self.inetService),
                dataLength: addressLength + 4, fieldLengths: [], userdata: mapUserdata),
            NftSet(
                table: NFTablesLayout.table, name: NFTablesElement.Set.hostPortDNAT.rawValue, flags: map,
                keyType: Self.concatenation(Self.inetProtocol, Self.inetService),
                keyLength: 8, dataType: Self.concatenation(address, Self.inetService),
                dataLength: addressLength + 4, fieldLengths: [], userdata: mapUserdata),
            NftSet(
                table: NFTablesLayout.table, name: NFTablesElement.Set.masquerade.rawValue,
                flags: NftConstants.setInterval | NftConstants.setConcatenation | NftConstants.setTimeout,
                keyType: Self.concatenation(address, address), keyLength: 2 * addressLength,
                dataType: nil, dataLength: nil, fieldLengths: [UInt8(addressLength), UInt8(addressLength)],
                userdata: [.u32(Self.keyByteOrder, 0), .nest(Self.keyTypeof, Self.concatenationTypeof)]),
        ]

        let network = NftConstants.payloadNetworkHeader
        let transport = NftConstants.payloadTransportHeader
        let l4proto = NftConstants.metaL4Protocol
        // Where the addresses are in the IPv4 and IPv6 headers.
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .ipv4 ? (12, 16) : (8, 24)
        let destinationPort: (UInt32) -> NftExpression = { .payload(base: transport, offset: 2, length: 2, into: Self.register($0)) }
        let toDispatch: [NftExpression] = [
            .fib(flags: NftConstants.fibDestinationAddress, result: NftConstants.fibResultAddressType, into: Self.register(0)),
            .compare(register: Self.register(0), operation: NftConstants.compareEqual, data: Self.hostOrder(NftConstants.routeTypeLocal)),
            .jump(NFTablesLayout.dispatchChain),
        ]
        rules =
            [
                // dnat to <daddr> . meta l4proto . th dport map @hostip_dnat
                NftRule(
                    table: NFTablesLayout.table, chain: NFTablesLayout.dispatchChain,
                    expressions: [
                        .payload(base: network, offset: destinationOffset, length: addressLength, into: Self.register(0)),
                        .meta(key: l4proto, into: Self.register(afterAddress)),
                        destinationPort(afterAddress + 1),
                        .lookup(set: NFTablesElement.Set.hostIPDNAT.rawValue, setID: nil, from: Self.register(0), into: Self.register(0)),
                        .dnat(family: protocolFamily, address: Self.register(0), port: Self.register(afterAddress)),
                    ]),
                // dnat to meta l4proto . th dport map @hostport_dnat
                NftRule(
                    table: NFTablesLayout.table, chain: NFTablesLayout.dispatchChain,
                    expressions: [
                        .meta(key: l4proto, into: Self.register(0)),
                        destinationPort(1),
                        .lookup(set: NFTablesElement.Set.hostPortDNAT.rawValue, setID: nil, from: Self.register(0), into: Self.register(0)),
                        .dnat(family: protocolFamily, address: Self.register(0), port: Self.register(afterAddress)),
                    ]),
                // fib daddr type local jump hostports
                NftRule(table: NFTablesLayout.table, chain: "prerouting", expressions: toDispatch),
                NftRule(table: NFTablesLayout.table, chain: "output", expressions: toDispatch),
                // ct status dnat <saddr> . <daddr> @masq_pairs masquerade
                NftRule(
                    table: NFTablesLayout.table, chain: "postrouting",
                    expressions: [
                        .conntrack(key: NftConstants.conntrackStatus, into: Self.register(0)),
                        .bitwise(register: Self.register(0), length: 4, mask: Self.hostOrder(NftConstants.conntrackStatusDestinationNAT), xor: Self.hostOrder(0)),
                        .compare(register: Self.register(0), operation: NftConstants.compareNotEqual, data: Self.hostOrder(0)),
                        .payload(base: network, offset: sourceOffset, length: addressLength, into: Self.register(0)),
                        .payload(base: network, offset: destinationOffset, length: addressLength, into: Self.register(afterAddress)),
                        .lookup(set: NFTablesElement.Set.masquerade.rawValue, setID: nil, from: Self.register(0), into: nil),
                        .masquerade,
                    ]),
            ]
            + (family == .ipv4
                ? [
                    // iifname != "lo" ip daddr 127.0.0.0/8 drop: nft compares the first byte only.
                    NftRule(
                        table: NFTablesLayout.table, chain: NFTablesLayout.guardChain,
                        expressions: [
                            .meta(key: NftConstants.metaInputInterfaceName, into: Self.register(0)),
                            .compare(
                                register: Self.register(0), operation: NftConstants.compareNotEqual,
                                data: Array("lo".utf8) + [UInt8](repeating: 0, count: 14)),
                            .payload(base: network, offset: destinationOffset, length: 1, into: Self.register(0)),
                            .compare(register: Self.register(0), operation: NftConstants.compareEqual, data: [127]),
                            .drop,
                        ])
                ] : [])
    }

    static func register(_ slot: UInt32) -> UInt32 { NftConstants.register(slot) }

    static func hostOrder(_ value: UInt32) -> [UInt8] { NftConstants.hostOrder(value) }

    // MARK: - nft's numbers (nftables 1.0.6 `include/datatype.h`, `include/expression.h`, `include/rule.h`)

    static let ipv4Address: UInt32 = 7
    static let ipv6Address: UInt32 = 8
    static let inetProtocol: UInt32 = 12
    static let inetService: UInt32 = 13

    /// A concatenation's type: each field's type appended in six more bits.
    static func concatenation(_ types: UInt32...) -> UInt32 {
        types.reduce(0) { $0 << 6 | $1 }
    }

    static let keyByteOrder = NftConstants.udataKeyByteOrder
    static let dataByteOrder = NftConstants.udataDataByteOrder
    static let keyTypeof = NftConstants.udataKeyTypeof
    static let dataTypeof = NftConstants.udataDataTypeof
    static let dataInterval = NftConstants.udataDataInterval
    /// The `typeof` nest nft writes for a concatenation declared with `type`: the expression kind
    /// (EXPR_CONCAT, 13) and no further data.
    static let concatenationTypeof: [NftUserdata] = [
        .u32(NftConstants.udataTypeofExpression, 13),
        .nest(NftConstants.udataTypeofData, []),
    ]
}
