import Testing

/// The kernel backends the traffic suites run against, from the same test code: the config key
/// that selects each, and how a test reads what a backend wrote.
enum TestBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case iptables
    case nftables

    /// Merged into the portmap plugin's entry of a conflist.
    var overrides: [String: Any] { self == .nftables ? ["backend": "nftables"] : [:] }

    var testDescription: String { rawValue }
}

extension NetnsLab {
    /// The node's `cni_hostport` table of a family as `nft list table` prints it ("" when absent).
    func nftTable(v6: Bool = false) throws -> String {
        let result = try Command.run(["ip", "netns", "exec", node, "nft", "list", "table", v6 ? "ip6" : "ip", "cni_hostport"])
        return result.succeeded ? result.stdout : ""
    }

    /// What a backend holds for the node, both families, for comparisons before and after.
    func ruleset(_ backend: TestBackend) throws -> [String] {
        switch backend {
        case .iptables: return [try natTable(), try natTable(v6: true)]
        case .nftables: return [try nftTable(), try nftTable(v6: true)]
        }
    }
}

extension NetnsLab {
    /// Whether the pod's rules are in `backend`'s ruleset and not in the other one's: the test
    /// really ran the backend it names.
    func wrote(_ pod: Pod, with backend: TestBackend) throws -> Bool {
        let other: TestBackend = backend == .iptables ? .nftables : .iptables
        return try ruleset(backend).joined().contains(pod.containerID) && !(try ruleset(other).joined().contains(pod.containerID))
    }
}
