import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A store call that failed (libiptc's, or an nf_tables request's): which call, on which chain,
/// and the library's own words for errno.
package struct RuleTableError: Error, Equatable, CustomStringConvertible {
    package var family: IPFamily
    /// nat or raw.
    package var table: String = "nat"
    package var operation: String
    package var chain: String?
    package var errno: Errno
    package var message: String

    /// `errno` as libiptc left it.
    package init(family: IPFamily, table: String = "nat", operation: String, chain: String?, errno: Int32, message: String) {
        self.family = family
        self.table = table
        self.operation = operation
        self.chain = chain
        self.errno = Errno(errno)
        self.message = message
    }

    package var description: String {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        let subject = chain.map { " \($0)" } ?? ""
        return "\(tool) \(table): \(operation)\(subject) failed: \(message) (errno \(errno))"
    }

    /// EAGAIN from commit: the table changed between reading and replacing it; retry the cycle.
    package var isConcurrentModification: Bool { operation == "commit" && errno == .resourceTemporarilyUnavailable }
}
