import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A libiptc call that failed: which call, on which chain, and libiptc's own words for errno.
struct XTablesError: Error, Equatable, CustomStringConvertible {
    var family: IPFamily
    /// nat or raw.
    var table: String = "nat"
    var operation: String
    var chain: String?
    var errno: Errno
    var message: String

    /// `errno` as libiptc left it.
    init(family: IPFamily, table: String = "nat", operation: String, chain: String?, errno: Int32, message: String) {
        self.family = family
        self.table = table
        self.operation = operation
        self.chain = chain
        self.errno = Errno(errno)
        self.message = message
    }

    var description: String {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        let subject = chain.map { " \($0)" } ?? ""
        return "\(tool) \(table): \(operation)\(subject) failed: \(message) (errno \(errno))"
    }

    /// EAGAIN from commit: the table changed between reading and replacing it; retry the cycle.
    var isConcurrentModification: Bool { operation == "commit" && errno == .resourceTemporarilyUnavailable }
}
