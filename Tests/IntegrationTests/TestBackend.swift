import Foundation
import Testing

/// The places rules can live that the traffic suites run against, from the same test code: the
/// config keys that select each, and how a test reads what was written there.
enum TestBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// The iptables backend, unforced, on the lab's node, whose kubelet writes in the legacy
    /// x_tables: it chooses them.
    case iptables
    /// The iptables backend in the nf_tables tables iptables-nft manages.
    case iptablesNFT = "iptables-nft"
    case nftables

    /// Merged into the portmap plugin's entry of a conflist.
    var overrides: [String: Any] {
        switch self {
        case .iptables: [:]
        case .iptablesNFT: ["iptablesStore": "nft"]
        case .nftables: ["backend": "nftables"]
        }
    }

    /// Whether the backend writes the Go plugin's chains (either iptables store), read back as
    /// `iptables-save` lines.
    var writesChains: Bool { self != .nftables }

    var testDescription: String { rawValue }
}

extension NetnsLab {
    /// The node's `cni_portmaps` table of a family as `nft list table` prints it ("" when absent),
    /// read once no element is being expired (a DEL's elements go within a tick; nft lists them
    /// until then, with `expires`).
    func nftTable(v6: Bool = false) throws -> String {
        var listed = ""
        for _ in 0..<50 {
            let result = try Command.run(["ip", "netns", "exec", node, "nft", "list", "table", v6 ? "ip6" : "ip", "cni_portmaps"])
            listed = result.succeeded ? result.stdout : ""
            if !listed.contains(" expires ") { break }
            usleep(2_000)
        }
        return listed
    }

    /// What a backend holds for the node, both families, for comparisons before and after.
    func ruleset(_ backend: TestBackend) throws -> [String] {
        switch backend {
        case .iptables: return [try natTable(), try natTable(v6: true)]
        case .iptablesNFT: return [try natTable(store: .nft), try natTable(v6: true, store: .nft)]
        case .nftables: return [try nftTable(), try nftTable(v6: true)]
        }
    }
}

extension NetnsLab {
    /// Whether the pod's rules are in `backend`'s ruleset and in no other one's: the test really
    /// ran where it names.
    func wrote(_ pod: Pod, with backend: TestBackend) throws -> Bool {
        try ruleset(backend).joined().contains(pod.containerID)
            && TestBackend.allCases.filter { $0 != backend }.allSatisfy { !((try? ruleset($0).joined().contains(pod.containerID)) ?? true) }
    }
}
