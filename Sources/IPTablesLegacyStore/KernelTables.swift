import IPTablesLayout
import ModuleTree
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

    /// Whether the kernel runs legacy x_tables now (built in or loaded): /proc lists its tables.
    static var hasXTables: Bool {
        textLines(of: "/proc/net/ip_tables_names") != nil
    }

    /// The families the kernel runs: IPv4 always, IPv6 unless it is disabled or not built
    /// (`/proc/net/if_inet6` is missing then).
    static var families: [IPFamily] {
        access("/proc/net/if_inet6", F_OK) == 0 ? [.ipv4, .ipv6] : [.ipv4]
    }

    /// A piece of the kernel a rule needs, as STATUS names it.
    enum Need: Equatable, CustomStringConvertible {
        case xTables
        case table(String)
        case match(String)
        case target(String)

        var description: String {
            switch self {
            case .xTables: "legacy x_tables"
            case .table(let name): "\(name) table"
            case .match(let name): "\(name) match"
            case .target(let name): "\(name) target"
            }
        }

        /// The modules (or aliases) the kernel requests for it: `ip_tables`, `iptable_nat`,
        /// `ipt_DNAT` or `xt_DNAT` (x_tables tries the family's name, then the generic one).
        func moduleNames(_ family: IPFamily) -> [String] {
            let prefix = KernelTables.prefix(family)
            switch self {
            case .xTables: return ["\(prefix)_tables"]
            case .table(let name): return ["\(prefix)table_\(name)"]
            case .match(let name), .target(let name): return ["\(prefix)t_\(name)", "xt_\(name)"]
            }
        }
    }

    /// What the kernel offers one family now, from /proc, each list read once (STATUS asks for
    /// every extension of its rules).
    struct Offer {
        let hasXTables: Bool
        let tables: Set<String>
        let matches: Set<String>
        let targets: Set<String>

        init(_ family: IPFamily) {
            let names = textLines(of: "/proc/net/\(prefix(family))_tables_names")
            hasXTables = names != nil
            tables = Set(names ?? [])
            matches = lines(of: "/proc/net/\(prefix(family))_tables_matches")
            targets = lines(of: "/proc/net/\(prefix(family))_tables_targets")
        }

        func has(_ need: Need) -> Bool {
            switch need {
            case .xTables: hasXTables
            case .table(let name): tables.contains(name)
            case .match(let name): matches.contains(name)
            case .target(let name): targets.contains(name)
            }
        }
    }

    /// "ip" or "ip6", as the kernel's names (`ip6_tables`, `ip6table_nat`, `ip6t_DNAT`) start.
    static func prefix(_ family: IPFamily) -> String { family == .ipv4 ? "ip" : "ip6" }

    private static func lines(of path: String) -> Set<String> { Set(textLines(of: path) ?? []) }
}
