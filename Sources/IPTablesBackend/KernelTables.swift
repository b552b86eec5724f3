#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// Which legacy tables exist in this network namespace, without creating any: opening a table
/// through libiptc instantiates it, and DEL on a node that never had an IPv6 nat table must not
/// leave one behind.
enum KernelTables {
    /// Whether `/proc/net/ip{,6}_tables_names` lists `table`.
    static func exists(_ table: String, family: IPFamily) -> Bool {
        let path = family == .ipv4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names"
        guard let file = fopen(path, "r") else { return false }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).trimmingSuffix("\n")
            if line == table { return true }
        }
        return false
    }
}

private extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
