import Netlink
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What makes a file itself whichever path reaches it: its device and inode. For a namespace file
/// (a /proc/<pid>/ns/net link, a bind mount in /run/netns) `stat` follows through to nsfs, so these
/// are the namespace's own: two files with one identity are one namespace.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// Follows links and mounts, as `stat` does.
    init(path: String) throws(HostNetworkError) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .ofLastCall("stat \(path)") }
        self.init(status)
    }

    init(descriptor: Int32, path: String) throws(HostNetworkError) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .ofLastCall("fstat \(path)") }
        self.init(status)
    }

    private init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}
