import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process edge shared by the plugin executables: environment and stdin in, the plugin's
/// output written out, its exit code returned. Nothing else in the package touches stdio.
public enum PluginMain {
    /// The `about` line printed when run by hand.
    public static let about = "CNI portmap plugin (Swift) v0.1.0"

    public static func run(_ plugin: PortmapPlugin) -> Never {
        let environment = currentEnvironment()
        let command = environment["CNI_COMMAND"] ?? ""
        // A reader gone from a stdout pipe is then a write error with its reason, not a silent death.
        signal(SIGPIPE, SIG_IGN)
        // A result that cannot be delivered is a failed verb (Go exits 1 too). A closed stdout
        // is known before anything is changed, so the verb is refused then and the node untouched.
        if !command.isEmpty && fcntl(STDOUT_FILENO, F_GETFD) < 0 {
            _ = write(
                "portmap: \(command): stdout is not open (\(String(cString: strerror(errno)))): no result could be delivered, nothing was changed\n", to: STDERR_FILENO)
            exit(1)
        }
        let needsStdin = !command.isEmpty && command != "VERSION"
        let output = plugin.run(environment: environment, stdin: needsStdin ? readStandardInput() : .bytes([]))
        var exitCode = output.exitCode
        if let failure = write(output.stdout, to: STDOUT_FILENO) {
            // Past this point the change is committed. It is not undone here: the runtime, seeing
            // the failure, runs DEL for this container, which removes it.
            _ = write(
                "portmap: \(command): cannot write the result to stdout (\(failure)); the runtime's DEL after this failure removes what was written\n", to: STDERR_FILENO)
            exitCode = exitCode == 0 ? 1 : exitCode
        }
        _ = write(output.stderr, to: STDERR_FILENO)
        exit(exitCode)
    }

    /// `environ` as a dictionary. Split on the bytes, not on `Character`s: grapheme breaking of
    /// every variable was a fifth of a VERSION's instructions.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                result[String(decoding: bytes[..<equals], as: UTF8.self)] = String(decoding: bytes[(equals + 1)...], as: UTF8.self)
            }
            cursor += 1
        }
        return result
    }

    /// All of stdin (a runtime closes it after writing the config), reading at most one byte past
    /// `StandardInput.byteLimit` to tell a config of exactly that size from a longer one.
    private static func readStandardInput() -> StandardInput {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let wanted = min(chunk.count, StandardInput.byteLimit + 1 - data.count)
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, wanted) }
            if count > 0 {
                data += chunk[0..<count]
                if data.count > StandardInput.byteLimit { return .oversized }
            } else if count == 0 {
                return .bytes(data)
            } else if errno != EINTR {
                return .unreadable(reason: String(cString: strerror(errno)))
            }
        }
    }

    /// Writes all of `text`; the reason when that failed, nil when it was written.
    private static func write(_ text: String, to descriptor: Int32) -> String? {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return written < 0 ? String(cString: strerror(errno)) : "nothing was written"
            }
        }
        return nil
    }
}
