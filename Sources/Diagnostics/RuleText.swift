import PortmapCore

/// A mapping's rule as `hostports` prints it, written out only when asked for: `list` and
/// `conflicts` print none, and the iptables-save lines of a thousand pods' rules were half of
/// their interpretation. Equal when the printed texts are.
public struct RuleText: Sendable, Hashable, CustomStringConvertible {
    enum Source: Sendable {
        case text(String)
        case iptables(IPTablesLine)
    }

    /// Boxed: a mapping is copied often while findings are made, and the rule's arrays and
    /// strings would each be retained at every copy.
    final class IPTablesLine: Sendable {
        let rule: IPTablesRule
        let chain: String

        init(_ rule: IPTablesRule, chain: String) {
            self.rule = rule
            self.chain = chain
        }
    }

    let source: Source

    /// A rule already in its printed form (the nftables layouts' summaries).
    public static func text(_ text: String) -> RuleText { RuleText(source: .text(text)) }

    /// An iptables rule of `chain`, printed in `iptables-save` syntax.
    public static func iptables(_ rule: IPTablesRule, chain: String) -> RuleText { RuleText(source: .iptables(IPTablesLine(rule, chain: chain))) }

    public var description: String {
        switch source {
        case .text(let text): text
        case .iptables(let line): line.rule.saveLine(chain: line.chain)
        }
    }

    public static func == (lhs: RuleText, rhs: RuleText) -> Bool { lhs.description == rhs.description }

    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
