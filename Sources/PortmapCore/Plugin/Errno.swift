/// An error number of the C library, as the kernel and libc report it, so that errors carry a
/// typed value and code tests for a named one rather than comparing with a bare number. The
/// values are Linux's (`asm-generic/errno-base.h`, `errno.h`); only those the package tests for
/// are named. The system's words for one come from `strerror`, where C is imported.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: Int32) {
        self.init(rawValue: rawValue)
    }

    /// EPERM
    public static let notPermitted = Errno(1)
    /// ENOENT
    public static let noSuchFileOrDirectory = Errno(2)
    /// ESRCH
    public static let noSuchProcess = Errno(3)
    /// EINTR
    public static let interruptedSystemCall = Errno(4)
    /// EAGAIN
    public static let resourceTemporarilyUnavailable = Errno(11)
    /// EACCES
    public static let permissionDenied = Errno(13)
    /// EINVAL
    public static let invalidArgument = Errno(22)
    /// EPROTO
    public static let protocolError = Errno(71)
    /// ENETUNREACH
    public static let networkUnreachable = Errno(101)
    /// EHOSTUNREACH
    public static let hostUnreachable = Errno(113)

    /// The number, as `errno` shows it in messages.
    public var description: String { String(rawValue) }
}
