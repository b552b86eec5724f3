/// Named network namespaces for one test, `<prefix>-<tag>-<suffix>` with a random tag shared by
/// the test's namespaces, so parallel tests and earlier runs never collide. `deleteAll()` (in a
/// defer) removes them with everything in them.
public final class TestNamespaces {
    public let prefix: String
    public let tag = String(UInt32.random(in: 0x1000_0000...0xFFFF_FFFF), radix: 16)
    public private(set) var names: [String] = []

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Adds `<prefix>-<tag>-<suffix>` and returns its name.
    @discardableResult
    public func add(_ suffix: String) throws(Subprocess.Failure) -> String {
        let name = "\(prefix)-\(tag)-\(suffix)"
        try Subprocess.check(["ip", "netns", "add", name])
        names.append(name)
        return name
    }

    /// Runs `arguments` inside namespace `name` (`ip netns exec`, which remounts /sys for it), with
    /// `stdin`; its stdout.
    @discardableResult
    public func exec(_ name: String, _ arguments: [String], stdin: String = "") throws(Subprocess.Failure) -> String {
        try Subprocess.check(["ip", "netns", "exec", name] + arguments, stdin: Array(stdin.utf8)).stdout
    }

    public func delete(_ name: String) throws(Subprocess.Failure) {
        try Subprocess.check(["ip", "netns", "delete", name])
        names.removeAll { $0 == name }
    }

    public func deleteAll() {
        names.forEach { try? delete($0) }
    }
}
