import Foundation

/// Runs a built executable of this package the way a runtime runs a CNI plugin: a clean
/// environment holding only what is given, the config on stdin, stdout and stderr captured.
struct BinaryRunner {
    struct Result {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    /// The directory holding the package's built products: the test runner's own.
    static let productsDirectory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // SwiftPM runs `<name>.xctest` from inside the products directory.
        if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        return directory
    }()

    let executable: URL

    init(_ name: String) {
        executable = Self.productsDirectory.appendingPathComponent(name)
    }

    func run(environment: [String: String], stdin: some Sequence<UInt8>) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.environment = environment
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
                      status: process.terminationStatus)
    }
}
