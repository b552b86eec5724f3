import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs programs for the tests with `posix_spawn` and explicit descriptor hygiene.
///
/// Foundation's `Process` on Linux leaked two pipes per run in this suite and let children inherit
/// them: after a few hundred runs a background server held the write end of another test's pipe, so
/// that test's read never saw EOF, and `Process.run` itself crashed copying the descriptor list.
/// Here every pipe is created close-on-exec, a child gets exactly stdin/stdout/stderr, and every
/// descriptor is closed on every path.
public enum Subprocess {
    public struct Result: Sendable {
        public var stdout: String
        public var stderr: String
        /// The exit status, or 128 + the signal that ended the program.
        public var status: Int32
        public var succeeded: Bool { status == 0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var reason: String
        public var description: String { "`\(command.joined(separator: " "))`: \(reason)" }

        public init(command: [String], reason: String) {
            self.command = command
            self.reason = reason
        }
    }

    /// Like `run`, but a non-zero exit is a failure too (with the program's stderr as its reason).
    @discardableResult
    public static func check(_ arguments: [String], stdin: [UInt8] = [], timeout: Double = 30) throws(Failure) -> Result {
        let result = try run(arguments, stdin: stdin, timeout: timeout)
        guard result.succeeded else { throw Failure(command: arguments, reason: "exited \(result.status): \(result.stderr)\(result.stdout)") }
        return result
    }

    /// Runs `arguments` (the first is looked up in PATH unless it contains a slash) with exactly
    /// `environment` (the test runner's own when nil), writes `stdin`, and collects both outputs.
    /// Killed after `timeout` seconds, which shows as status 128 + SIGKILL.
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8] = [],
        timeout: Double = 30
    ) throws(Failure) -> Result {
        ignoreBrokenPipes
        let (pid, input, output, errors) = try spawnLock.withLock { _ throws(Failure) in
            let input = try Pipe(arguments)
            let output = try Pipe(arguments)
            let errors = try Pipe(arguments)
            do throws(Failure) {
                let pid = try spawn(arguments, environment: environment, stdin: input.read, stdout: output.write, stderr: errors.write)
                return (pid, input, output, errors)
            } catch {
                [input, output, errors].forEach { $0.closeBoth() }
                throw error
            }
        }
        close(input.read)
        close(output.write)
        close(errors.write)
        var pending = stdin[...]
        var stdinOpen = !pending.isEmpty
        if !stdinOpen { close(input.write) }
        var collected: [Int32: [UInt8]] = [output.read: [], errors.read: []]
        var open: Set<Int32> = [output.read, errors.read]
        let deadline = monotonicSeconds() + timeout
        var killed = false
        while !open.isEmpty {
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinOpen { polled.append(pollfd(fd: input.write, events: Int16(POLLOUT), revents: 0)) }
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 {
                // Killed and still silent after a second: a grandchild holds the pipe; stop reading.
                if killed { break }
                kill(pid, SIGKILL)
                killed = true
            }
            let ready = poll(&polled, nfds_t(polled.count), killed ? 1_000 : Int32(min(remaining, 1) * 1_000) + 1)
            if ready < 0 && errno != EINTR { break }
            if ready == 0 && killed { break }
            for entry in polled where entry.revents != 0 {
                if entry.fd == input.write {
                    let written = pending.withUnsafeBytes { write(input.write, $0.baseAddress, $0.count) }
                    if written > 0 { pending = pending.dropFirst(written) }
                    if pending.isEmpty || written < 0 && errno != EINTR && errno != EAGAIN {
                        close(input.write)
                        stdinOpen = false
                    }
                    continue
                }
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected[entry.fd]! += chunk[0..<count]
                } else if count == 0 || errno != EINTR && errno != EAGAIN {
                    close(entry.fd)
                    open.remove(entry.fd)
                }
            }
        }
        if stdinOpen { close(input.write) }
        open.forEach { close($0) }
        if killed { kill(pid, SIGKILL) }
        let status = wait(for: pid)
        return Result(
            stdout: String(decoding: collected[output.read]!, as: UTF8.self),
            stderr: String(decoding: collected[errors.read]!, as: UTF8.self), status: status)
    }

    /// Held from creating a child's pipes to spawning it, so no other child inherits them in the
    /// moment before they are marked close-on-exec.
    static let spawnLock = Mutex(())

    /// Starts `arguments` with the given descriptors as its stdin, stdout and stderr, and nothing else.
    static func spawn(
        _ arguments: [String], environment: [String: String]?, stdin: Int32, stdout: Int32,
        stderr: Int32
    ) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target) in [(stdin, STDIN_FILENO), (stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        // Descriptors the runtime opened without close-on-exec stay in the test runner.
        for descriptor in openDescriptors() where descriptor > STDERR_FILENO {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        // The runner's threads block signals and it ignores SIGPIPE; a child starts with neither,
        // or a server would ignore the SIGTERM that stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = argv.withUnsafeBufferPointer { argvBuffer in
            if let envp {
                return envp.withUnsafeBufferPointer { envpBuffer in
                    posix_spawnp(&pid, arguments[0], &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
                }
            }
            return posix_spawnp(&pid, arguments[0], &actions, &attributes, argvBuffer.baseAddress!, environ)
        }
        guard status == 0 else { throw Failure(command: arguments, reason: "spawn failed: \(String(cString: strerror(status)))") }
        return pid
    }

    /// A child that exits before reading all of its stdin must fail our write with EPIPE, not kill
    /// the test runner with SIGPIPE.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// The descriptors open in this process, from /proc/self/fd (glibc's `closefrom` action is not
    /// visible to Swift, and a close action for a descriptor that is gone is ignored).
    static func openDescriptors() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var result: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let descriptor = Int32(name), descriptor != own { result.append(descriptor) }
        }
        return result
    }

    /// Reaps `pid`; its exit status, or 128 + the signal that ended it.
    static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// A close-on-exec pipe. Glibc's `pipe2` is not visible to Swift, so the flag is set right after
    /// `pipe`; `spawnLock` keeps any other spawn from running in between.
    struct Pipe {
        let read: Int32
        let write: Int32

        init(_ command: [String]) throws(Failure) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else {
                throw Failure(command: command, reason: "pipe failed: \(String(cString: strerror(errno)))")
            }
            read = fds[0]
            write = fds[1]
            _ = fcntl(read, F_SETFD, FD_CLOEXEC)
            _ = fcntl(write, F_SETFD, FD_CLOEXEC)
        }

        func closeBoth() {
            close(read)
            close(write)
        }
    }
}
