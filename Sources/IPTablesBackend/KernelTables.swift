import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the legacy xtables of this network namespace hold and what the kernel offers them, read
/// from /proc without creating anything: opening a table through libiptc instantiates it, and
/// DEL, GC and STATUS on a node that never had an IPv6 nat table must not leave one behind.
enum KernelTables {
    /// Whether `/proc/net/ip{,6}_tables_names` lists `table`.
    static func exists(_ table: String, family: IPFamily) -> Bool {
        lines(of: "/proc/net/\(prefix(family))_tables_names").contains(table)
    }

    /// Whether each of `matches` and `targets` is registered with the kernel for
    /// `family` (`/proc/net/ip{,6}_tables_matches` / `_targets`), so a rule using it needs no
    /// module loaded first.
    static func registered(matches: Set<String>, targets: Set<String>, family: IPFamily) -> Bool {
        matches.isSubset(of: lines(of: "/proc/net/\(prefix(family))_tables_matches"))
            && targets.isSubset(of: lines(of: "/proc/net/\(prefix(family))_tables_targets"))
    }

    /// The families the kernel runs: IPv4 always, IPv6 unless it is disabled or not built
    /// (`/proc/net/if_inet6` is missing then).
    static var families: [IPFamily] {
        access("/proc/net/if_inet6", F_OK) == 0 ? [.ipv4, .ipv6] : [.ipv4]
    }

    private static func prefix(_ family: IPFamily) -> String { family == .ipv4 ? "ip" : "ip6" }

    /// The lines of a /proc list (names are short); empty when it cannot be read.
    private static func lines(of path: String) -> Set<String> {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var lines: Set<String> = []
        var buffer = [CChar](repeating: 0, count: 64)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            lines.insert(line.hasSuffix("\n") ? String(line.dropLast()) : line)
        }
        return lines
    }
}
