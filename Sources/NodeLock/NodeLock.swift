import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An exclusive `flock` on a lock file, held while the value lives: how the backends keep their
/// read-edit-commit cycles from interleaving with other writers' (each backend names its file and
/// why). Waits by polling every 10 ms, as iptables' `--wait` does.
public struct NodeLock: ~Copyable {
    private let descriptor: Int32

    /// Runs `body` holding the lock at `path` (taken as `init` takes it); released when `body`
    /// returns or throws.
    public static func holding<Value>(
        path: String, name: String, timeoutMilliseconds: Int,
        _ body: () throws(BackendError) -> Value
    ) throws(BackendError) -> Value {
        let lock = try NodeLock(path: path, name: name, timeoutMilliseconds: timeoutMilliseconds)
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }

    /// The lock file a node's environment names in `variable` (as `XTABLES_LOCKFILE` moves
    /// iptables' own), `defaultPath` when it is unset or empty.
    public static func path(_ environment: [String: String], variable: String, defaultPath: String) -> String {
        let configured = environment[variable] ?? ""
        return configured.isEmpty ? defaultPath : configured
    }

    /// Whether the lock at `path` could be opened as `init` opens it, without taking it or
    /// creating it (STATUS): an existing file must open for reading, a missing one needs a
    /// directory the process can create it in.
    public static func checkOpenable(path: String, name: String) throws(BackendError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let failure = errno
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        guard failure == ENOENT, access(directory.isEmpty ? "/" : directory, W_OK | X_OK) == 0 else {
            let reason = failure == ENOENT ? errno : failure
            throw BackendError(.kernel, "cannot open the \(name) \(path)", details: String(cString: strerror(reason)))
        }
    }

    /// Takes the lock at `path` within `timeoutMilliseconds`, or throws: `.busy` when another
    /// process keeps holding it, `.kernel` when the file cannot be opened or locked. `name`
    /// ("xtables lock") is how messages call it.
    init(path: String, name: String, timeoutMilliseconds: Int) throws(BackendError) {
        let descriptor = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackendError(.kernel, "cannot open the \(name) \(path)", details: String(cString: strerror(errno)))
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
                throw BackendError(
                    .busy, "another process holds the \(name) \(path)",
                    details: "waited \(timeoutMilliseconds) ms; retry later")
            }
            usleep(10_000)
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    static func nowMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
