import Nftnl
import PortmapCore
import Snapshots

/// Summarizes a rule of another program's nftables table (`ForeignNFTablesRule`) from the
/// expressions nft writes: `meta nfproto`, `meta l4proto`, `ip[6] daddr` and `th dport`
/// compares, `fib daddr type local`, set lookups and verdict maps, a DNAT to immediates or to a
/// map's value, masquerade, the verdict. Loads no compare consumes feed a lookup's key; any
/// other expression is named in `unread`.
enum ForeignRuleDecoder {
    /// Expressions the reply parser leaves `.unknown` that only act (a `ct` or `meta` without a
    /// destination register sets a value): a rule holding them still forwards the same packets.
    static let statements: Set<String> = ["ct", "meta", "log", "notrack"]

    static func decode(_ rule: NftRule, tableFamily: IPFamily?) -> ForeignNFTablesRule {
        var summary = ForeignNFTablesRule(chain: rule.chain, comment: rule.comment, family: tableFamily)
        enum Load {
            case payload(base: UInt32, offset: UInt32, length: UInt32)
            case meta(UInt32)
            case fibLocal
            case other
        }
        var loads: [UInt32: Load] = [:]
        var immediates: [UInt32: [UInt8]] = [:]
        var mapValue: [UInt32: String] = [:]
        for expression in rule.expressions {
            switch expression {
            case .payload(let base, let offset, let length, let register):
                loads[register] = .payload(base: base, offset: offset, length: length)
            case .meta(let key, let register):
                loads[register] = .meta(key)
            case .fib(let flags, let result, let register):
                let local = flags & NftConstants.fibDestinationAddress != 0 && result == NftConstants.fibResultAddressType
                loads[register] = local ? .fibLocal : .other
            case .compare(let register, let operation, let data) where operation == NftConstants.compareEqual:
                switch loads[register] {
                case .meta(NftConstants.metaNFProtocol)? where data.count == 1:
                    summary.family = UInt32(data[0]) == NftConstants.ipv4 ? .ipv4 : UInt32(data[0]) == NftConstants.ipv6 ? .ipv6 : nil
                case .meta(NftConstants.metaL4Protocol)? where data.count == 1:
                    summary.protocol = TransportProtocol.allCases.first { $0.number == data[0] }
                case .payload(NftConstants.payloadNetworkHeader, let offset, _)?
                where (data.count == 4 && offset == 16) || (data.count == 16 && offset == 24):
                    summary.destination = IPAddress(bytes: data)
                case .payload(NftConstants.payloadTransportHeader, 2, 2)? where data.count == 2:
                    summary.destinationPort = UInt16(data[0]) << 8 | UInt16(data[1])
                case .fibLocal? where data.count == 4 && data.withUnsafeBytes({ $0.loadUnaligned(as: UInt32.self) }) == NftConstants.routeTypeLocal:
                    summary.localDestination = true
                default:
                    summary.unread.append("cmp")
                }
            case .lookup(let set, _, _, let into):
                switch into {
                case nil: summary.lookups.append(set)
                case NftConstants.registerVerdict?: summary.verdictMap = set
                case let register?: mapValue[register] = set
                }
            case .immediate(let data, let register):
                immediates[register] = data
            case .dnat(_, let addressRegister, let portRegister):
                if let map = mapValue[addressRegister] {
                    summary.translation = .map(map)
                } else {
                    let port = immediates[portRegister].flatMap { $0.count >= 2 ? UInt16($0[0]) << 8 | UInt16($0[1]) : nil }
                    summary.translation = .fixed(immediates[addressRegister].flatMap(IPAddress.init(bytes:)), port: port)
                }
            case .masquerade:
                summary.masquerade = true
            case .verdict(let code, let chain):
                summary.verdict =
                    switch (code, chain) {
                    case (NftConstants.verdictJump, let chain?): .jump(chain)
                    case (NftConstants.verdictGoto, let chain?): .goto(chain)
                    case (NftConstants.verdictAccept, _): .accept
                    case (NftConstants.verdictDrop, _): .drop
                    default: .return
                    }
            case .counter:
                continue
            case .unknown(let name) where statements.contains(name):
                // A statement (`ct mark set`, `meta mark set`, `log`): it restricts nothing.
                continue
            default:
                summary.unread.append("\(expression)".prefix { $0 != "(" }.description)
            }
        }
        return summary
    }
}
