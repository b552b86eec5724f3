import Netlink
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The names in a directory of /proc, /sys or /run, read with `readdir`.
enum DirectoryEntries {
    /// The entries of `path` but `.` and `..`, in the directory's order; nil when there is no such
    /// directory (/run/netns before the first `ip netns add`, a device that went away).
    static func names(in path: String) throws(HostNetworkError) -> [String]? {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return nil }
            throw .ofLastCall("open directory \(path)")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            // readdir says "end" and "error" both with nil; only an error sets errno.
            errno = 0
            guard let entry = readdir(stream) else { break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        guard errno == 0 else { throw .ofLastCall("read directory \(path)") }
        return names
    }
}
