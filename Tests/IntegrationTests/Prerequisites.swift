import Foundation
import TestSubprocess
import Testing

/// Where things are, and whether this machine can run the namespace tests at all. The probe is
/// computed once; suites are enabled by it and say why when they are skipped.
enum Prerequisites {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let conf = packageRoot.appendingPathComponent("conf")
    /// The pod server and the probe, shared with the demo and the runtime test.
    static let scripts = packageRoot.appendingPathComponent("scripts")
    static let debianPlugins = URL(fileURLWithPath: "/usr/lib/cni")

    /// The directory `swift build` put this test runner in, next to the package's executables.
    static let products: URL = {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        return directory
    }()

    /// Our plugin: `$PORTMAP_PLUGIN`, else the `portmap` built next to this test runner.
    static let ourPlugin: URL = {
        if let path = ProcessInfo.processInfo.environment["PORTMAP_PLUGIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return products.appendingPathComponent("portmap")
    }()

    /// The node diagnostics command, built next to this test runner.
    static let hostports = products.appendingPathComponent("hostports")

    /// Debian's Go portmap (v1.1.1), the reference.
    static let goPlugin = debianPlugins.appendingPathComponent("portmap")

    /// Upstream's Go portmap (main after v1.9.1, both backends) from `../shared/reference/` beside
    /// the package, where the development machine keeps it; nil in a plain clone, and the tests
    /// that need it are skipped with `upstreamMissing`.
    static let upstreamPlugin: URL? = {
        let binary = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/portmap-go-3d27709f")
        return FileManager.default.isExecutableFile(atPath: binary.path) ? binary : nil
    }()
    static let upstreamMissing: Comment = "../shared/reference/portmap-go-3d27709f (upstream's Go portmap) is absent: takeover tests against it skipped"

    /// nil when everything is there; otherwise why the namespace tests cannot run.
    static let missing: String? = {
        let files = [
            ourPlugin.path, hostports.path, debianPlugins.appendingPathComponent("bridge").path, goPlugin.path,
            "/usr/sbin/iptables-legacy-save", "/usr/sbin/ip6tables-legacy-save", "/usr/sbin/iptables-legacy",
        ]
        return RootProbe.missing(
            needsRootFor: "network namespaces, nat tables",
            executables: files.map { ($0, "missing \($0) (scripts/test.sh installs containernetworking-plugins and iptables)") },
            programs: [(["ip", "netns", "list"], "`ip netns` does not work here"), (["python3", "--version"], "python3 is missing")])
    }()

    static var available: Bool { missing == nil }
    static var reason: Comment { Comment(rawValue: missing ?? "") }
}

/// In CI the root-only suites must run: a reason to skip them fails the run instead.
@Test(.enabled(if: RootProbe.inCI)) func rootOnlySuitesRunInCI() {
    #expect(Prerequisites.missing == nil, "\(Prerequisites.missing ?? "")")
}
