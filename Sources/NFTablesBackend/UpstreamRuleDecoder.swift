import Nftnl
import PortmapCore
import Snapshots

/// Reads a rule of upstream's nftables table back into what it does, from the expressions nft
/// writes for upstream's rules (`nft --debug=netlink list table ip cni_hostport`):
/// `[ip daddr X] <proto> dport P dnat to A:Q` is an optional network-header load and compare, a
/// `meta l4proto` compare, a transport-header port compare, two immediates and `nat dnat`;
/// `ip saddr S ip daddr D masquerade` two network-header compares and `masq`. Anything else is
/// `.other`, kept with its comment.
enum UpstreamRuleDecoder {
    static func decode(_ rule: NftRule, family: IPFamily) -> UpstreamNFTablesRule {
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .ipv4 ? (12, 16) : (8, 24)
        var loaded: (base: UInt32, offset: UInt32)?
        var source: IPAddress?
        var destination: IPAddress?
        var transport: TransportProtocol?
        var port: UInt16?
        var immediates: [UInt32: [UInt8]] = [:]
        var action = UpstreamNFTablesRule.Action.other
        for expression in rule.expressions {
            switch expression {
            case .payload(let base, let offset, _, _):
                loaded = (base, offset)
            case .meta(let key, _) where key == NftConstants.metaL4Protocol:
                loaded = (UInt32.max, key)
            case .compare(_, let operation, let data) where operation == NftConstants.compareEqual:
                switch loaded {
                case (NftConstants.payloadNetworkHeader, sourceOffset)?: source = IPAddress(bytes: data)
                case (NftConstants.payloadNetworkHeader, destinationOffset)?: destination = IPAddress(bytes: data)
                case (NftConstants.payloadTransportHeader, 2)? where data.count == 2: port = UInt16(data[0]) << 8 | UInt16(data[1])
                case (UInt32.max, NftConstants.metaL4Protocol)? where data.count == 1: transport = TransportProtocol.allCases.first { $0.number == data[0] }
                default: return Self.other(rule)
                }
                loaded = nil
            case .immediate(let data, let register):
                immediates[register] = data
            case .dnat(_, let addressRegister, let portRegister):
                guard let transport, let port, let address = immediates[addressRegister].flatMap(IPAddress.init(bytes:)),
                    let podPort = immediates[portRegister], podPort.count >= 2, source == nil
                else { return Self.other(rule) }
                action = .dnat(
                    transport, hostIP: destination, hostPort: port, pod: address, podPort: UInt16(podPort[0]) << 8 | UInt16(podPort[1]))
            case .masquerade:
                action = .masquerade(source: source, pod: destination)
            case .counter:
                continue
            default:
                return Self.other(rule)
            }
        }
        return UpstreamNFTablesRule(chain: rule.chain, containerID: rule.comment, action: action, text: Self.text(action, family: family, comment: rule.comment))
    }

    private static func other(_ rule: NftRule) -> UpstreamNFTablesRule {
        UpstreamNFTablesRule(
            chain: rule.chain, containerID: rule.comment, action: .other,
            text: "(a rule of another form)" + (rule.comment.map { " comment \"\($0)\"" } ?? ""))
    }

    /// The rule in nft's syntax.
    static func text(_ action: UpstreamNFTablesRule.Action, family: IPFamily, comment: String?) -> String {
        let ip = family == .ipv4 ? "ip" : "ip6"
        let body: String
        switch action {
        case .dnat(let transport, let hostIP, let hostPort, let pod, let podPort):
            let to = family == .ipv4 ? "\(pod):\(podPort)" : "[\(pod)]:\(podPort)"
            body = (hostIP.map { "\(ip) daddr \($0) " } ?? "") + "\(transport.rawValue) dport \(hostPort) dnat to \(to)"
        case .masquerade(let source, let pod):
            body = [source.map { "\(ip) saddr \($0)" }, pod.map { "\(ip) daddr \($0)" }, "masquerade"].compactMap { $0 }.joined(separator: " ")
        case .other:
            body = "(a rule of another form)"
        }
        return body + (comment.map { " comment \"\($0)\"" } ?? "")
    }
}
