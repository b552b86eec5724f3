import Foundation
import TestSubprocess

/// Runs a program with a bounded run time and captures its output. The tests may run programs
/// (`ip`, the CNI plugins, iptables-legacy-save, python3); the plugin under test never does.
enum Command {
    typealias Result = Subprocess.Result

    /// A program that could not be run, or exited non-zero where success was required.
    struct Failure: Error, CustomStringConvertible {
        var command: [String]
        var result: Result
        var description: String {
            "`\(command.joined(separator: " "))` exited \(result.status): \(result.stderr)\(result.stdout)"
        }
    }

    @discardableResult
    static func run(_ arguments: [String], stdin: Data = Data(), timeout: Double = 30) throws -> Result {
        try Subprocess.run(arguments, stdin: Array(stdin), timeout: timeout)
    }

    /// Like `run`, but a non-zero exit is an error.
    @discardableResult
    static func check(_ arguments: [String], stdin: Data = Data(), timeout: Double = 30) throws -> Result {
        try Subprocess.check(arguments, stdin: Array(stdin), timeout: timeout)
    }
}
