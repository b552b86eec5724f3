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
    /// chain back to its container. The bytes the kernel holds for the Go plugin's rule: upstream
    /// trims a comment over 255 bytes to its first 253 + "..." (256 bytes), and iptables keeps the
    /// first 255 of that (xt_comment's 256-byte field ends in a NUL), so a long one ends in "..".
    public static func dnatComment(network: String, containerID: String) -> String {
        var comment = Array("dnat name: \"\(network)\" id: \"\(containerID)\"".utf8)
        if comment.count > goCommentLimit {
            comment = comment.prefix(253) + Array("...".utf8)
        }
        return String(decoding: comment.prefix(storedCommentLimit), as: UTF8.self)
    }

    /// The longest comment upstream's `trimComment` leaves as it is.
    static let goCommentLimit = 255
    /// The most of a comment xt_comment stores.
    static let storedCommentLimit = 255

    /// The network named by an entry-rule comment `dnatComment` wrote (ours or the Go plugin's),
    /// or nil when `comment` is not one, or its truncation cut into the network name.
    ///
    /// Network names cannot hold `"`, so the name ends at the first quote: a comment truncated
    /// in the container ID still names its network with certainty; one cut inside the name
    /// could belong to any network sharing that prefix.
    public static func network(ofDNATComment comment: String) -> String? {
        // Byte by byte, as the Go plugin reads it (and without Character breaking, which made
        // this a sixth of `hostports`' interpretation at a thousand pods).
        let bytes = comment.utf8
        let opening = "dnat name: \"".utf8
        let separator = "\" id: \"".utf8
        let quoteByte = UInt8(ascii: "\"")
        guard bytes.starts(with: opening) else { return nil }
        let rest = bytes.dropFirst(opening.count)
        guard let quote = rest.firstIndex(of: quoteByte) else { return nil }
        let network = String(decoding: rest[..<quote], as: UTF8.self)
        guard CNIEnvironment.isValidName(network) else { return nil }
        let tail = rest[quote...]
        if tail.starts(with: separator), tail.last == quoteByte, tail.count > separator.count {
            let containerID = String(decoding: tail.dropFirst(separator.count).dropLast(), as: UTF8.self)
            if CNIEnvironment.isValidName(containerID), dnatComment(network: network, containerID: containerID) == comment {
                return network
            }
        }
        guard bytes.count == storedCommentLimit else { return nil }
        // Cut at 255 bytes, after upstream's trim to 253 + "..." or from an untrimmed 256: what
        // is left of `" id: "<containerID>` must still fit that.
        let kept = tail.reversed().starts(with: "..".utf8) ? tail.dropLast(2) : tail
        guard separator.starts(with: kept) || kept.starts(with: separator) else { return nil }
        let idPart = kept.dropFirst(min(kept.count, separator.count))
        return idPart.isEmpty || CNIEnvironment.isValidName(String(decoding: idPart, as: UTF8.self)) ? network : nil
    }
}
