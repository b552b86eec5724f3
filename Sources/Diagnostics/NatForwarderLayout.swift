import PortmapCore

/// A nat-table layout of entry chain → per-container chains → DNAT rules, whose entry rules
/// carry the owner in a comment: the CNI portmap's, netavark's copy of it, and kubelet's former
/// hostport manager, which CRI-O keeps. `LegacyNatInterpreter` reads each the same way.
struct NatForwarderLayout: Sendable {
    /// Whom an entry rule's comment names.
    struct Claimant: Sendable {
        var network: String?
        var containerID: String?
        var workload: String?
    }

    let owner: PortOwner
    /// The chain PREROUTING and OUTPUT jump to (`-m addrtype --dst-type LOCAL`).
    let entryChain: String
    let containerChainPrefix: String
    /// The chain POSTROUTING jumps to for the layout's masquerade.
    let masqueradeChain: String
    /// Whom an entry-rule comment names, or nil when it is not one of this layout's comments.
    let claimant: @Sendable (String) -> Claimant?
    /// Where hairpin traffic is masqueraded when it is not marked in the container chain:
    /// CRI-O's `CRIO-MASQ-<hash>` beside each `KUBE-HP-<hash>`.
    var masqueradeChainPrefix: String? = nil

    static let cniPortmap = NatForwarderLayout(
        owner: .cniPortmap, entryChain: ChainName.topLevelDNAT, containerChainPrefix: "CNI-DN-",
        masqueradeChain: ChainName.markMasquerade,
        claimant: { comment in DNATComment.owner(comment).map { Claimant(network: $0.network, containerID: $0.containerID) } })

    /// netavark 1.x: the CNI portmap's comment without its inner quotes, `dnat name: <network>
    /// id: <id>`; its `NETAVARK-DN-` chains are one per network, shared by its containers.
    static let netavark = NatForwarderLayout(
        owner: .netavark, entryChain: "NETAVARK-HOSTPORT-DNAT", containerChainPrefix: "NETAVARK-DN-",
        masqueradeChain: "NETAVARK-HOSTPORT-MASQ",
        claimant: { comment in
            let prefix = "dnat name: "
            guard comment.hasPrefix(prefix), let separator = comment.firstRange(of: " id: ") else { return nil }
            let network = comment[comment.index(comment.startIndex, offsetBy: prefix.count)..<separator.lowerBound]
            return Claimant(network: String(network), containerID: String(comment[separator.upperBound...]))
        })

    /// CRI-O (kubelet's hostport code): `"<pod>_<namespace> hostport <port>"` on every rule.
    static let crio = NatForwarderLayout(
        owner: .crio, entryChain: "KUBE-HOSTPORTS", containerChainPrefix: "KUBE-HP-",
        masqueradeChain: "CRIO-HOSTPORTS-MASQ",
        claimant: { comment in
            guard let range = comment.firstRange(of: " hostport ") else { return nil }
            return Claimant(workload: String(comment[..<range.lowerBound]))
        }, masqueradeChainPrefix: "CRIO-MASQ-")

    static let all = [cniPortmap, netavark, crio]
}
