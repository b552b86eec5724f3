import Foundation
import TestSubprocess

/// Runs a built executable of this package the way a runtime runs a CNI plugin: a clean
/// environment holding only what is given, the config on stdin, stdout and stderr captured.
struct BinaryRunner {
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

    func run(environment: [String: String], stdin: some Sequence<UInt8>) throws -> Subprocess.Result {
        try Subprocess.run([executable.path], environment: environment, stdin: Array(stdin))
    }
}
