import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One-line files under /proc, read and written with plain POSIX calls: sysctls under /proc/sys (no
/// sysctl program), and a process's `comm`.
package enum ProcSysFile {
    /// The file's first line, without the newline.
    package static func firstLine(of path: String) throws(HostNetworkError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno, "open \(path)") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = retryingInterrupts { buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) } }
        guard count >= 0 else { throw failure(errno, "read \(path)") }
        return String(decoding: buffer.prefix(count).prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    static func store(_ text: String, at path: String) throws(HostNetworkError) {
        let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno, "open \(path) for writing") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let count = retryingInterrupts { bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } }
        guard count == bytes.count else { throw failure(count < 0 ? errno : EIO, "write \(path)") }
    }

    private static func retryingInterrupts(_ call: () -> Int) -> Int {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    /// `code` comes first so it is read before the operation's text is built.
    private static func failure(_ code: Int32, _ operation: String) -> HostNetworkError {
        HostNetworkError(operation: operation, errno: code)
    }
}
