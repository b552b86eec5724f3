import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HostNetworkError {
    /// The failure of the system call just made: `errno` is read before `operation`'s text is
    /// built, which may allocate and so change it.
    package static func ofLastCall(_ operation: @autoclosure () -> String) -> HostNetworkError {
        let code = currentErrno
        return HostNetworkError(operation: operation(), errno: code)
    }
}

/// The C library's `errno`, which a `HostNetworkError` member would read as its own property.
private var currentErrno: Int32 { errno }
