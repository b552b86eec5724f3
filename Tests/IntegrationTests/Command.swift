import Foundation
import TestSubprocess

/// Runs a program with a bounded run time and captures its output. The tests may run programs
/// (`ip`, the CNI plugins, iptables-legacy-save, python3); the plugin under test never does.
enum Command {
    typealias Result = Subprocess.Result

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
