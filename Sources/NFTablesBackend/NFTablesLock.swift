#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// The lock the plugin's nftables verbs take (`flock` on /run/portmap-nftables.lock, or
/// `$PORTMAP_NFTABLES_LOCKFILE`), held from reading the table to the batch's answer, as the
/// xtables lock is for iptables. It only orders the plugin's own instances: a writer that does
/// not take it (nft, kube-proxy) is caught by the batch's generation instead. Not the xtables lock:
/// no iptables writer touches this table, and an iptables-restore of a large ruleset would hold
/// every pod's ADD for as long as it takes. Released when the value goes away.
struct NFTablesLock: ~Copyable {
    static let defaultPath = "/run/portmap-nftables.lock"

    private let descriptor: Int32

    /// Waits up to `timeoutMilliseconds` for the lock, polling every 10 ms.
    init(path: String, timeoutMilliseconds: Int) throws(BackendError) {
        let descriptor = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackendError(.kernel, "cannot open the nftables lock \(path)", details: String(cString: strerror(errno)))
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
                throw BackendError(.busy, "another process holds the nftables lock \(path)",
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
