import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A netlink call that failed: what was being done, and the errno the socket or the kernel gave.
///
/// The module's own error, so the layers below the public surface say exactly which exchange
/// failed; the public types, `NetlinkHostNetwork` and `NetlinkNodeReader`, map it to
/// `HostNetworkError` and nothing else does.
struct NetlinkError: Error, Equatable, CustomStringConvertible {
    var operation: String
    var errno: Errno

    /// `errno` as the socket or the kernel gave it.
    init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = Errno(errno)
    }

    var description: String { hostNetworkError.description }

    var hostNetworkError: HostNetworkError { HostNetworkError(operation: operation, errno: errno.rawValue) }
}

extension HostNetworkError {
    /// The failure of `operation` with `errno`, in the C library's words for it.
    package init(operation: String, errno: Int32) {
        self.init(operation: operation, errno: errno, message: String(cString: strerror(errno)))
    }
}
