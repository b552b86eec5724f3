/// Which nat chains a reader decodes the rules of: `hostports` needs the rules of the chains
/// its layouts interpret and only the names of the others (kube-proxy's thousands of
/// per-Service chains), whose rules it would read and decode for nothing.
public struct NatChainSelection: Sendable {
    public let names: Set<String>
    public let prefixes: [String]

    public init(names: Set<String>, prefixes: [String]) {
        self.names = names
        self.prefixes = prefixes
    }

    /// Every chain.
    public static let all = NatChainSelection(names: [], prefixes: [""])

    public func contains(_ chain: String) -> Bool {
        names.contains(chain) || prefixes.contains { chain.hasPrefix($0) }
    }
}
