/// Kernel-visible names, byte for byte those of the Go plugin so that either binary can manage
/// (and DEL) the other's containers on a live node.
public enum ChainName {
    public static let topLevelDNAT = "CNI-HOSTPORT-DNAT"
    public static let setMark = "CNI-HOSTPORT-SETMARK"
    public static let markMasquerade = "CNI-HOSTPORT-MASQ"
    /// Ours alone, in the raw table: drops packets to 127.0.0.0/8 that did not come from `lo`.
    public static let localnetGuard = "CNI-HOSTPORT-GUARD"
    /// Written by plugin versions before 0.7; DEL still removes per-container chains hanging off it.
    public static let oldTopLevelSNAT = "CNI-HOSTPORT-SNAT"

    /// iptables chain names longer than this are silently truncated by libiptc.
    public static let maxLength = 28

    /// `CNI-DN-` + hex(sha512(network + containerID)), cut to 28 characters.
    public static func dnat(network: String, containerID: String) -> String {
        hashed(prefix: "DN-", network: network, containerID: containerID)
    }

    /// The pre-0.7 per-container SNAT chain, `CNI-SN-...`.
    public static func oldSNAT(network: String, containerID: String) -> String {
        hashed(prefix: "SN-", network: network, containerID: containerID)
    }

    /// `CNI-` + prefix + hex(sha512(network + containerID)), cut to 28 characters: libcni's
    /// `MustFormatChainNameWithPrefix` (an empty prefix gives its `FormatChainName`).
    public static func hashed(prefix: String, network: String, containerID: String) -> String {
        let digest = SHA512.hexDigest(Array((network + containerID).utf8))
        return String(("CNI-" + prefix + digest).prefix(maxLength))
    }

    /// The comment on a container's entry rules; what `hostports` and operators read to map a
    /// chain back to its container. xt_comment holds at most 255 bytes; upstream trims to 253 + "..."
    /// (256 bytes, which iptables then refuses), we trim to 252 + "..." so such an ADD still works.
    public static func dnatComment(network: String, containerID: String) -> String {
        let comment = "dnat name: \"\(network)\" id: \"\(containerID)\""
        guard comment.utf8.count > 255 else { return comment }
        return String(decoding: comment.utf8.prefix(252), as: UTF8.self) + "..."
    }
}
