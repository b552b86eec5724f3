import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which variant the node's own `iptables` command is, the last rule of the store choice: what
/// the administrator (or the distribution: Debian 11+, Ubuntu 21.04+, RHEL 8+ choose iptables-nft)
/// set up is where other tools on the node write.
enum SystemIPTables {
    /// Where distributions install the command; the first that exists is resolved with
    /// realpath(3): the link is read, the command is never run.
    static let paths = ["/usr/sbin/iptables", "/sbin/iptables"]

    /// The variant the first of `paths` that exists resolves to; nil when none exists or its
    /// target is not an iptables binary this knows.
    static func variant(paths: [String] = paths) -> IPTablesStoreName? {
        for path in paths {
            guard let resolved = realpath(path, nil) else { continue }
            defer { free(resolved) }
            return variant(ofBinary: String(cString: resolved))
        }
        return nil
    }

    /// The variant of the binary a symlink chain ends at: `xtables-nft-multi` (or a distribution's
    /// `iptables-nft`) is nft; `xtables-legacy-multi`, `iptables-legacy` and the binaries of
    /// iptables before 1.8 (`xtables-multi`, `iptables-multi`, `iptables`), which only knew the
    /// legacy tables, are legacy.
    static func variant(ofBinary path: String) -> IPTablesStoreName? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        // By its dash-separated words: String's substring search would link the regex engine
        // into the plugin.
        let words = name.split(separator: "-")
        if words.contains("nft") { return .nft }
        if words.contains("legacy") || ["xtables-multi", "iptables-multi", "iptables"].contains(name) { return .legacy }
        return nil
    }
}
