import Foundation
import PortmapCore
import TestSubprocess
import Testing

@testable import HostScan
@testable import NFTablesBackend
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the root-only tests need: root, `ip netns` and the `nft` tool. nil when they can run;
/// otherwise why they are skipped.
enum RootPrerequisites {
    static let missing = RootProbe.missing(
        needsRootFor: "network namespaces, nftables",
        programs: [
            (["ip", "netns", "list"], "`ip netns` does not work here"),
            (["nft", "--version"], "the nft tool is missing (apt-get install nftables)"),
        ])

    static var available: Bool { missing == nil }
    static var reason: Comment { Comment(rawValue: missing ?? "") }
}

/// In CI the root-only suites must run: a reason to skip them fails the run instead.
@Test(.enabled(if: RootProbe.inCI)) func rootOnlySuitesRunInCI() {
    #expect(RootPrerequisites.missing == nil, "\(RootPrerequisites.missing ?? "")")
}

/// A network namespace of its own for one test (`nfttest-<random>-<suffix>`), deleted with
/// everything in it by `delete()` (in a defer).
final class ScratchNamespace {
    private let namespaces = TestNamespaces(prefix: "nfttest")
    let name: String

    init(_ suffix: String) throws {
        name = try namespaces.add(suffix)
    }

    func delete() {
        namespaces.deleteAll()
    }

    /// `nft` inside the namespace (`script` on stdin for `-f -`); its stdout.
    @discardableResult
    func nft(_ arguments: String..., script: String = "") throws -> String {
        try namespaces.exec(name, ["nft"] + arguments, stdin: script)
    }

    /// `nft list table <family> cni_portmaps`, or nil when there is no such table.
    func listing(_ family: IPFamily) throws -> String? {
        let result = try Subprocess.run(["ip", "netns", "exec", name, "nft", "list", "table", family == .ipv4 ? "ip" : "ip6", NFTablesLayout.table])
        return result.succeeded ? result.stdout : nil
    }

    /// Runs `body` on a thread inside the namespace (the test's own thread never moves).
    func inside<T>(_ body: () throws -> T) throws -> T {
        let path = "/run/netns/\(name)"
        let namespace = NetworkNamespace(path: path, identity: try FileIdentity(path: path))
        var outcome: Result<T, any Error>?
        let entered = try NamespaceThread.run(in: namespace) { () throws(HostNetworkError) in
            outcome = Result { try body() }
        }
        if case .failure(let refusal) = entered { throw refusal.reason }
        return try outcome!.get()
    }
}

/// A scratch lock file for one backend, removed by `remove()`.
struct ScratchLock {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nfttest-\(UUID().uuidString).lock").path

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The kernel's socket, with another writer committing right before the first batch goes out.
final class InterferingSocket: NetfilterTransport, @unchecked Sendable {
    private let socket: MnlSocket
    private let interfere: () throws -> Void
    private(set) var batches = 0

    init(before interfere: @escaping () throws -> Void) throws {
        socket = try MnlSocket(.netfilter)
        self.interfere = interfere
    }

    var portID: UInt32 { socket.portID }

    func send(_ message: [UInt8]) throws(NetlinkError) {
        if NetlinkBytes(message).type == 0x10 {
            batches += 1
            if batches == 1 { try? interfere() }
        }
        try socket.send(message)
    }

    func receive() throws(NetlinkError) -> [UInt8] { try socket.receive() }
    func hasQueuedDatagram() -> Bool { socket.hasQueuedDatagram() }
    func reserveSendBuffer(for size: Int) throws(NetlinkError) { try socket.reserveSendBuffer(for: size) }
}

/// `nft list` output made comparable between namespaces.
enum Listing {
    /// Each set's elements sorted: the kernel lists a hash set in the order of its hash, whose
    /// seed is random per set.
    static func normalized(_ listing: String) -> String {
        var lines: [String] = []
        var pending: String?
        for line in listing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var open = pending {
                open += " " + line.trimmingCharacters(in: .whitespaces)
                pending = open
            } else if line.trimmingCharacters(in: .whitespaces).hasPrefix("elements = {") {
                pending = line
            } else {
                lines.append(line)
            }
            if let open = pending, open.hasSuffix("}") {
                let start = open.range(of: "{")!.upperBound
                let entries = open[start..<open.index(before: open.endIndex)].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                lines.append(String(open[..<start]) + " " + entries.sorted().joined(separator: ", ") + " }")
                pending = nil
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The expression lines of `nft --debug=netlink list chain`, rule by rule, without the handles.
    static func rules(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  [") }
    }
}
