#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Subprocess {
    /// A long-running program (a pod's echo server) that announces itself with a first line
    /// starting "ready" on stdout; stopped with SIGTERM and reaped by `stop()` or on deinit.
    public final class Background {
        /// The program's process id (a test may look at its namespaces).
        public let pid: pid_t
        private let output: Int32
        private var running = true

        /// Starts `arguments` (stdin and stderr on /dev/null) and waits up to `timeout` seconds for "ready".
        public init(_ arguments: [String], timeout: Double = 10) throws(Failure) {
            (pid, output) = try spawnLock.withLock { _ throws(Failure) in
                let pipe = try Pipe(arguments)
                let null = open("/dev/null", O_RDWR | O_CLOEXEC)
                defer {
                    close(null)
                    close(pipe.write)
                }
                do throws(Failure) {
                    return (try spawn(arguments, environment: nil, stdin: null, stdout: pipe.write, stderr: null), pipe.read)
                } catch {
                    close(pipe.read)
                    throw error
                }
            }
            var line: [UInt8] = []
            let deadline = monotonicSeconds() + timeout
            while !line.contains(UInt8(ascii: "\n")) {
                var polled = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
                let remaining = deadline - monotonicSeconds()
                guard remaining > 0, poll(&polled, 1, Int32(remaining * 1_000) + 1) > 0 else { break }
                var byte: UInt8 = 0
                guard read(output, &byte, 1) == 1 else { break }
                line.append(byte)
            }
            guard String(decoding: line, as: UTF8.self).hasPrefix("ready") else {
                stop()
                throw Failure(command: arguments, reason: "did not print ready within \(timeout) s (got \"\(String(decoding: line, as: UTF8.self))\")")
            }
        }

        public func stop() {
            guard running else { return }
            running = false
            kill(pid, SIGTERM)
            _ = wait(for: pid)
            close(output)
        }

        deinit { stop() }
    }
}
