import IPTablesLayout
import Nftnl
import PortmapCore

/// Turns `IPTablesRule`s into the nf_tables expressions iptables-nft 1.8.9 (Debian 12) sends for
/// the same command line, and back, so that `iptables-nft-save` lists our rules as the Go
/// plugin's, and iptables-nft (or the Go plugin) deletes them as its own.
///
/// What iptables-nft writes natively, it writes the same way here: the interfaces (`meta iifname`
/// / `oifname` and a `cmp` of the name with its NUL, or of the prefix for `eth+`), the protocol
/// (`meta l4proto`, a one-byte `cmp`), the addresses (a `payload` load of the prefix's whole
/// bytes, or of the whole address then a `bitwise` mask), tcp/udp `--dport` (a two-byte load at
/// the transport header's offset 2) and `-m mark` (`meta mark`, a `bitwise` unless the mask is
/// full, a `cmp`), in that order, then the other matches in order as `match` expressions, a
/// counter, and the target: an immediate verdict for a jump or a verdict, a `target` expression
/// otherwise. Matches and targets carry the xtables structs libiptc takes (`XTExtensions`).
/// Registers are NFT_REG_1 throughout, as iptables-nft uses them.
enum RuleExpressions {
    private static let register = NftConstants.register(0)

    // MARK: - Encoding

    static func encode(_ rule: IPTablesRule, family: IPFamily) throws(RuleEncodingError) -> (expressions: [NftExpression], compat: NftRule.Compat) {
        var expressions: [NftExpression] = []
        for (interface, key) in [(rule.inInterface, NftConstants.metaInputInterfaceName), (rule.outInterface, NftConstants.metaOutputInterfaceName)] {
            guard let interface else { continue }
            let wildcard = interface.value.hasSuffix("+")
            let name = Array((wildcard ? String(interface.value.dropLast()) : interface.value).utf8)
            guard name.count < 16 else { throw RuleEncodingError(message: "interface name \(interface.value) is too long") }
            expressions += [.meta(key: key, into: register), compare(interface.isInverted, wildcard ? name : name + [0])]
        }
        if let proto = rule.protocolNumber {
            guard proto.value <= UInt8.max else { throw RuleEncodingError(message: "protocol number \(proto.value) is out of range") }
            expressions += [.meta(key: NftConstants.metaL4Protocol, into: register), compare(proto.isInverted, [UInt8(proto.value)])]
        }
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .ipv4 ? (12, 16) : (8, 24)
        for (address, offset) in [(rule.source, sourceOffset), (rule.destination, destinationOffset)] {
            guard let address else { continue }
            expressions += try self.address(address, at: offset, family: family)
        }
        for match in rule.matches {
            expressions += try self.match(match, protocolNumber: rule.protocolNumber, family: family)
        }
        expressions.append(.counter(bytes: 0, packets: 0))
        expressions.append(try target(rule.target, family: family))
        let compat = NftRule.Compat(proto: UInt32(rule.protocolNumber?.value ?? 0), inverted: rule.protocolNumber?.isInverted ?? false)
        return (expressions, compat)
    }

    private static func compare(_ inverted: Bool, _ data: [UInt8]) -> NftExpression {
        .compare(register: register, operation: inverted ? NftConstants.compareNotEqual : NftConstants.compareEqual, data: data)
    }

    /// `-s`/`-d`: the prefix's whole bytes when the mask ends on a byte, else the whole address
    /// masked. A /0 matches everything and is left out.
    private static func address(_ match: Inverted<IPNetwork>, at offset: UInt32, family: IPFamily) throws(RuleEncodingError) -> [NftExpression] {
        let network = match.value
        guard network.family == family else { throw RuleEncodingError(message: "\(network) is not an \(family) address") }
        let bytes = network.network.address.bytes
        guard network.prefixLength > 0 else {
            guard !match.isInverted else { throw RuleEncodingError(message: "! \(network) matches nothing") }
            return []
        }
        if network.prefixLength % 8 == 0 {
            let length = network.prefixLength / 8
            return [
                .payload(base: NftConstants.payloadNetworkHeader, offset: offset, length: UInt32(length), into: register),
                compare(match.isInverted, Array(bytes.prefix(length))),
            ]
        }
        return [
            .payload(base: NftConstants.payloadNetworkHeader, offset: offset, length: UInt32(bytes.count), into: register),
            .bitwise(register: register, length: UInt32(bytes.count), mask: network.mask.bytes, xor: [UInt8](repeating: 0, count: bytes.count)),
            compare(match.isInverted, bytes),
        ]
    }

    private static func match(_ match: IPTablesMatch, protocolNumber: Inverted<UInt16>?, family: IPFamily) throws(RuleEncodingError) -> [NftExpression] {
        switch match {
        case .destinationPort(let transport, let port) where transport != .sctp:
            return [
                .payload(base: NftConstants.payloadTransportHeader, offset: 2, length: 2, into: register),
                compare(false, [UInt8(port >> 8), UInt8(port & 0xFF)]),
            ]
        case .mark(let value, let mask):
            let bitwise: [NftExpression] =
                mask == .max
                ? [] : [.bitwise(register: register, length: 4, mask: NftConstants.hostOrder(mask), xor: NftConstants.hostOrder(0))]
            return [.meta(key: NftConstants.metaMark, into: register)] + bitwise + [compare(false, NftConstants.hostOrder(value))]
        default:
            let payload = try XTExtensions.match(match, family: family)
            return [.match(name: payload.name, revision: UInt32(payload.revision), info: payload.data)]
        }
    }

    private static func target(_ target: IPTablesTarget, family: IPFamily) throws(RuleEncodingError) -> NftExpression {
        switch target {
        case .jump(let chain):
            return .jump(chain)
        case .verdict(let name):
            guard let code = verdicts[name] else { throw RuleEncodingError(message: "verdict \(name) has no nf_tables form here") }
            return .verdict(code: code, chain: nil)
        default:
            let payload = try XTExtensions.target(target, family: family)!
            return .target(name: payload.name, revision: UInt32(payload.revision), info: payload.data)
        }
    }

    private static let verdicts: [String: Int32] = [
        "ACCEPT": NftConstants.verdictAccept, "DROP": NftConstants.verdictDrop, "RETURN": NftConstants.verdictReturn,
    ]

    // MARK: - Decoding

    /// The name `IPTablesTarget.targetName` gives the rule's target (the chain of a jump, a
    /// verdict, a target extension), read from its last expression without decoding the rest:
    /// nil for a rule that does not end in one.
    static func targetName(of expressions: [NftExpression]) -> String? {
        switch expressions.last {
        case .verdict(let code, let chain): chain ?? verdicts.first { $0.value == code }?.key
        case .target(let name, _, _): name
        default: nil
        }
    }

    /// The rule these expressions make, in the shapes `encode` writes. Anything else (another
    /// expression, an order or an operation iptables-nft would not write for this plugin's
    /// rules) becomes a match `.other` named after it, so the rule never equals a planned one by
    /// accident, and stays readable in messages.
    static func decode(_ expressions: [NftExpression], family: IPFamily) -> IPTablesRule {
        var rule = IPTablesRule(target: .other(name: "(no target)", revision: 0, data: []))
        var index = expressions.startIndex
        func unreadable(_ what: String) { rule.matches.append(.other(name: "nft:\(what)", revision: 0, data: [])) }
        func take() -> NftExpression? {
            guard index < expressions.endIndex else { return nil }
            defer { index += 1 }
            return expressions[index]
        }
        func comparison() -> (inverted: Bool, data: [UInt8])? {
            guard index < expressions.endIndex, case .compare(register, let operation, let data) = expressions[index],
                operation == NftConstants.compareEqual || operation == NftConstants.compareNotEqual
            else { return nil }
            index += 1
            return (operation == NftConstants.compareNotEqual, data)
        }
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .ipv4 ? (12, 16) : (8, 24)
        let addressSize = family == .ipv4 ? 4 : 16
        while let expression = take() {
            switch expression {
            case .meta(let key, register) where key == NftConstants.metaInputInterfaceName || key == NftConstants.metaOutputInterfaceName:
                guard let (inverted, data) = comparison(), !data.isEmpty, data.count <= 16 else { return fail(&rule, "meta") }
                let name = data.last == 0 ? String(decoding: data.dropLast(), as: UTF8.self) : String(decoding: data, as: UTF8.self) + "+"
                if key == NftConstants.metaInputInterfaceName {
                    rule.inInterface = Inverted(name, inverted)
                } else {
                    rule.outInterface = Inverted(name, inverted)
                }
            case .meta(NftConstants.metaL4Protocol, register):
                guard let (inverted, data) = comparison(), data.count == 1 else { return fail(&rule, "meta l4proto") }
                rule.protocolNumber = Inverted(UInt16(data[0]), inverted)
            case .meta(NftConstants.metaMark, register):
                var mask = UInt32.max
                if index < expressions.endIndex, case .bitwise(register, 4, let bytes, let xor) = expressions[index], bytes.count == 4,
                    xor == NftConstants.hostOrder(0)
                {
                    mask = hostOrder(bytes)
                    index += 1
                }
                guard let (inverted, data) = comparison(), !inverted, data.count == 4 else { return fail(&rule, "meta mark") }
                rule.matches.append(.mark(value: hostOrder(data), mask: mask))
            case .payload(NftConstants.payloadNetworkHeader, let offset, let length, register)
            where (offset == sourceOffset || offset == destinationOffset) && (1...addressSize).contains(Int(length)):
                var mask = [UInt8](repeating: 0xFF, count: Int(length)) + [UInt8](repeating: 0, count: addressSize - Int(length))
                if Int(length) == addressSize, index < expressions.endIndex,
                    case .bitwise(register, UInt32(addressSize), let bytes, let xor) = expressions[index],
                    bytes.count == addressSize, xor.allSatisfy({ $0 == 0 })
                {
                    mask = bytes
                    index += 1
                }
                guard let (inverted, data) = comparison(), data.count <= addressSize,
                    let address = IPAddress(bytes: data + [UInt8](repeating: 0, count: addressSize - data.count)),
                    let maskAddress = IPAddress(bytes: mask), let network = IPNetwork(address: address, mask: maskAddress)
                else { return fail(&rule, "payload") }
                if offset == sourceOffset {
                    rule.source = Inverted(network, inverted)
                } else {
                    rule.destination = Inverted(network, inverted)
                }
            case .payload(NftConstants.payloadTransportHeader, 2, 2, register):
                let transport: TransportProtocol? =
                    switch rule.protocolNumber {
                    case Inverted(6, false): .tcp
                    case Inverted(17, false): .udp
                    default: nil
                    }
                guard let transport, let (inverted, data) = comparison(), !inverted, data.count == 2 else { return fail(&rule, "payload") }
                rule.matches.append(.destinationPort(transport, UInt16(data[0]) << 8 | UInt16(data[1])))
            case .match(let name, let revision, let info) where revision <= UInt8.max:
                rule.matches.append(XTExtensions.decodeMatch(name: name, revision: UInt8(revision), ByteReader(info[...])))
            case .counter:
                continue
            case .verdict(let code, let chain) where index == expressions.endIndex:
                if let chain, code == NftConstants.verdictJump {
                    rule.target = .jump(chain)
                } else if let name = verdicts.first(where: { $0.value == code })?.key, chain == nil {
                    rule.target = .verdict(name)
                } else {
                    return fail(&rule, "immediate")
                }
            case .target(let name, let revision, let info) where index == expressions.endIndex && revision <= UInt8.max:
                rule.target = XTExtensions.decodeTarget(name: name, revision: UInt8(revision), ByteReader(info[...]), family: family)
            default:
                unreadable(describe(expression))
            }
        }
        return rule
    }

    private static func fail(_ rule: inout IPTablesRule, _ what: String) -> IPTablesRule {
        rule.matches.append(.other(name: "nft:\(what)", revision: 0, data: []))
        return rule
    }

    private static func describe(_ expression: NftExpression) -> String {
        switch expression {
        case .payload: "payload"
        case .meta: "meta"
        case .conntrack: "ct"
        case .bitwise: "bitwise"
        case .compare: "cmp"
        case .fib: "fib"
        case .lookup: "lookup"
        case .dnat: "nat"
        case .masquerade: "masq"
        case .counter: "counter"
        case .verdict, .immediate: "immediate"
        case .match(let name, _, _): "match \(name)"
        case .target(let name, _, _): "target \(name)"
        case .unknown(let name): name
        }
    }

    private static func hostOrder(_ bytes: [UInt8]) -> UInt32 {
        bytes.prefix(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
}
