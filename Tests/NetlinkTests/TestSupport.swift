import Foundation
import PortmapCore

@testable import HostScan
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes from hex text; spaces are for the reader (one group per field).
func hex(_ parts: String...) -> [UInt8] {
    let digits = Array(parts.joined().utf8.filter { $0 != UInt8(ascii: " ") })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// A netlink socket that records what was sent and answers with canned datagrams, in order,
/// whatever the request. Each test owns its own; nothing is shared between threads.
final class FakeTransport: NetlinkTransport, @unchecked Sendable {
    let portID: UInt32
    private(set) var sent: [[UInt8]] = []
    private var replies: [[UInt8]]

    init(portID: UInt32 = 0, replies: [[UInt8]] = []) {
        self.portID = portID
        self.replies = replies
    }

    var repliesLeft: Int { replies.count }

    func send(_ message: [UInt8]) throws(NetlinkError) {
        sent.append(message)
    }

    func receive() throws(NetlinkError) -> [UInt8] {
        guard !replies.isEmpty else { throw NetlinkError(operation: "fake transport: no reply left", errno: EAGAIN) }
        return replies.removeFirst()
    }
}

/// Kernel control messages, laid out as `netlink_ack` and `netlink_dump_done` write them.
enum Control {
    /// NLMSG_ERROR carrying `errno` (0: an ACK) and the request's 16-byte header, as the kernel
    /// caps it (NLM_F_CAPPED) for a success; the walk reads only the error field.
    static func error(_ errno: Int32, sequence: UInt32, portID: UInt32 = 0) -> [UInt8] {
        header(length: 36, type: 2, flags: errno == 0 ? 0x100 : 0, sequence: sequence, portID: portID)
            + littleEndian(UInt32(bitPattern: -errno)) + [UInt8](repeating: 0, count: 16)
    }

    static func ack(sequence: UInt32, portID: UInt32 = 0) -> [UInt8] { error(0, sequence: sequence, portID: portID) }

    /// NLMSG_DONE of a multipart reply, with its 0 status.
    static func done(sequence: UInt32, portID: UInt32 = 0) -> [UInt8] {
        header(length: 20, type: 3, flags: 2, sequence: sequence, portID: portID) + [0, 0, 0, 0]
    }

    static func header(length: UInt32, type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32) -> [UInt8] {
        littleEndian(length) + littleEndian(UInt32(type) | UInt32(flags) << 16) + littleEndian(sequence) + littleEndian(portID)
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

/// Counts how often a transport was opened, to show which verbs open none.
final class OpenCounter: @unchecked Sendable {
    private(set) var count = 0
    func opener(_ transport: FakeTransport) -> NetlinkTransportOpener {
        { () throws(NetlinkError) in
            self.count += 1
            return transport
        }
    }
}

/// A host network over fakes: `conntrack` and `route` answer the sockets, `names` resolve indexes.
func hostNetwork(
    conntrack: FakeTransport = FakeTransport(), route: FakeTransport = FakeTransport(),
    procSys: String = "/nonexistent/proc/sys", firstSequence: UInt32 = 1,
    names: [UInt32: String] = [:], opens: OpenCounter = OpenCounter()
) -> NetlinkHostNetwork {
    NetlinkHostNetwork(
        openConntrack: opens.opener(conntrack), openRoute: opens.opener(route), procSys: procSys,
        firstSequence: firstSequence, interfaceName: { names[$0] })
}

/// A scratch /proc/sys: `interfaces` get a `net/ipv4/conf/<name>/route_localnet` holding `value`,
/// and `net/netfilter/nf_conntrack_count` holds `conntrackCount` when given.
struct ScratchProcSys: ~Copyable {
    let root: String

    init(interfaces: [String: String] = [:], conntrackCount: String? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("netlink-procsys-\(UUID().uuidString)").path
        if let conntrackCount {
            try FileManager.default.createDirectory(atPath: "\(root)/net/netfilter", withIntermediateDirectories: true)
            try conntrackCount.write(toFile: "\(root)/net/netfilter/nf_conntrack_count", atomically: false, encoding: .utf8)
        }
        for (name, value) in interfaces {
            let directory = "\(root)/net/ipv4/conf/\(name)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try value.write(toFile: "\(directory)/route_localnet", atomically: false, encoding: .utf8)
        }
    }

    func routeLocalnet(_ interface: String) throws -> String {
        try String(contentsOfFile: "\(root)/net/ipv4/conf/\(interface)/route_localnet", encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A node reader over fakes: `socketDiag` and `route` answer the sockets, `proc` is the procfs
/// root owners are looked up in, `names` resolve indexes.
func nodeReader(
    socketDiag: FakeTransport = FakeTransport(), route: FakeTransport = FakeTransport(),
    proc: String = "/nonexistent/proc", firstSequence: UInt32 = 1,
    names: [UInt32: String] = [:]
) -> NetlinkNodeReader {
    NetlinkNodeReader(
        dumps: NodeDumps(
            openSocketDiag: { () throws(NetlinkError) in socketDiag }, openRoute: { () throws(NetlinkError) in route },
            firstSequence: firstSequence, interfaceName: { names[$0] }),
        proc: proc)
}
