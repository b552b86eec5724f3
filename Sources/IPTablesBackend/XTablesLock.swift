#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// The lock every iptables-legacy writer takes (`flock` on /run/xtables.lock, or
/// `$XTABLES_LOCKFILE`), held from reading a table to committing it so that no other writer's
/// change is lost in between. Released when the value goes away.
struct XTablesLock: ~Copyable {
    static let defaultPath = "/run/xtables.lock"

    private let descriptor: Int32

    /// Waits up to `timeoutMilliseconds` for the lock, polling like iptables' `--wait`.
    init(path: String, timeoutMilliseconds: Int) throws(BackendError) {
        let descriptor = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackendError(.kernel, "cannot open the xtables lock \(path)", details: String(cString: strerror(errno)))
        }
        let deadline = Self.nowMilliseconds() + timeoutMilliseconds
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw BackendError(.kernel, "cannot lock \(path)", details: String(cString: strerror(failure)))
            }
            guard Self.nowMilliseconds() < deadline else {
                close(descriptor)
                throw BackendError(.busy, "another process holds the xtables lock \(path)",
                                   details: "waited \(timeoutMilliseconds) ms; retry later")
            }
            usleep(10_000)
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    private static func nowMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
