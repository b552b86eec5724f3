#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether the kernel could load a module the first rule of a kind needs (a table such as
/// `iptable_nat`, an nf_tables chain type such as `nft-chain-2-nat`, an extension such as
/// `ipt_DNAT`), read from `/lib/modules/<release>` without
/// loading or creating anything: STATUS answers from this where no table exists yet.
///
/// A node without that directory (a minimal host, a kernel with everything built in and no module
/// tree) cannot be told: the answer is `.unknown`, which STATUS treats as usable, since a wrong
/// "not ready" takes the whole node's pod network down while a wrong "ready" fails one ADD.
public struct KernelModules {
    public enum Availability: Equatable, Sendable {
        case available
        case missing
        case unknown
    }

    /// Module names (with `-` read as `_`, as modprobe does) built in or loadable, and the aliases
    /// that name them; nil when the module tree cannot be read.
    private let names: Set<String>?

    /// The tree of the running kernel, or of `directory` (tests).
    public init(directory: String? = nil) {
        let tree = directory ?? "/lib/modules/\(Self.release)"
        var names: Set<String> = []
        var readAny = false
        for file in ["modules.builtin", "modules.dep"] {
            guard let lines = textLines(of: "\(tree)/\(file)") else { continue }
            readAny = true
            for line in lines {
                // "kernel/net/ipv4/netfilter/iptable_nat.ko[.xz]: deps" or a builtin's path.
                let path = line.split(separator: ":", maxSplits: 1).first.map(String.init) ?? line
                guard let file = path.split(separator: "/").last, let stem = file.split(separator: ".").first else { continue }
                names.insert(Self.normalized(String(stem)))
            }
        }
        for file in ["modules.alias", "modules.builtin.alias"] {
            guard let lines = textLines(of: "\(tree)/\(file)") else { continue }
            readAny = true
            for line in lines {
                // "alias ipt_DNAT xt_nat"
                let fields = line.split(separator: " ")
                guard fields.count == 3, fields[0] == "alias" else { continue }
                names.insert(Self.normalized(String(fields[1])))
            }
        }
        self.names = readAny ? names : nil
    }

    /// Whether any of `candidates` (module names or aliases, as the kernel requests them) can be
    /// had.
    public func availability(ofAny candidates: [String]) -> Availability {
        guard let names else { return .unknown }
        return candidates.contains { names.contains(Self.normalized($0)) } ? .available : .missing
    }

    private static func normalized(_ name: String) -> String {
        String(name.map { $0 == "-" ? "_" : $0 })
    }

    private static var release: String {
        var system = utsname()
        guard uname(&system) == 0 else { return "" }
        return withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
