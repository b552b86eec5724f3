#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether this machine can run a test target's root-only suites, probed once by each target (its
/// own `missing`, with what it needs): nil when they can run, else why they are skipped. In CI
/// (`CI=true`, which `.ci/run` sets) a skip is not allowed: each target has a test, enabled there
/// only, that fails with the reason.
public enum RootProbe {
    public static let inCI: Bool = getenv("CI").map { String(cString: $0) } == "true"

    /// "needs root (`why`)" when not root; else the reason of the first of `executables` that is
    /// not an executable file, or of `programs` that does not run to success; else nil.
    public static func missing(
        needsRootFor why: String, executables: [(path: String, reason: String)] = [],
        programs: [(arguments: [String], reason: String)] = []
    ) -> String? {
        if getuid() != 0 { return "needs root (\(why))" }
        if let absent = executables.first(where: { access($0.path, X_OK) != 0 }) { return absent.reason }
        return programs.first { (try? Subprocess.run($0.arguments).succeeded) != true }?.reason
    }
}
