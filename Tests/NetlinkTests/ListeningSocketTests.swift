import PortmapCore
import Snapshots
import Testing

@testable import HostScan
@testable import Netlink

/// The listener listing against the dumps the kernel really sent (`RecordedNode`): which requests
/// go out, what is read back, and which errors are no sockets rather than a failure.
struct ListeningSocketTests {
    static func socket(
        _ transport: TransportProtocol, _ address: String, _ port: UInt16, inode: UInt32,
        acceptsIPv4: Bool = false, owners: [ListeningSocket.Owner] = []
    ) -> ListeningSocket {
        let address = IPAddress(address)!
        return ListeningSocket(
            protocol: transport, family: address.family, address: address, port: port,
            acceptsIPv4: acceptsIPv4, inode: inode, owners: owners)
    }

    /// What the recording's python3 held, in dump order. Only the wildcard IPv6 sockets without
    /// V6ONLY take IPv4; the connected UDP socket and the bound, not listening, TCP one are absent.
    static let recorded = [
        socket(.tcp, "127.0.0.1", 5001, inode: 2_752_062),
        socket(.tcp, "::", 5002, inode: 2_752_063, acceptsIPv4: true),
        socket(.tcp, "::", 5003, inode: 2_752_064),
        socket(.udp, "127.0.0.1", 5004, inode: 2_752_065),
        socket(.udp, "::1", 5005, inode: 2_752_066),
        socket(.udp, "::", 5006, inode: 2_752_067, acceptsIPv4: true),
    ]

    /// One dump per protocol and family on one socket, numbered from the first sequence; the ports
    /// come out in host order (5001, not 0x8913) and SCTP's ENOENT is no SCTP sockets.
    @Test func recordedListing() throws {
        let procRoot = try ScratchTree()
        let socket = FakeTransport(portID: RecordedNode.portID, replies: RecordedNode.listing)
        let listing = try nodeReader(socketDiag: socket, proc: procRoot.root).listeningSockets()
        #expect(listing == Self.recorded)
        #expect(
            socket.sent
                == (try ListenerDump.dumps.enumerated().map { offset, dump in
                    try SocketDiagMessages.dumpRequest(dump.0, family: dump.1).encoded(sequence: 1 + UInt32(offset))
                }))
        #expect(socket.repliesLeft == 0)
    }

    @Test func dumpsAreTCPThenUDPThenSCTPEachIPv4First() {
        #expect(
            ListenerDump.dumps.map { "\($0.0) \($0.1)" }
                == ["tcp ipv4", "tcp ipv6", "udp ipv4", "udp ipv6", "sctp ipv4", "sctp ipv6"])
    }

    /// The owners found in /proc are attached by inode.
    @Test func ownersAreAttachedByInode() throws {
        let proc = try ScratchTree(files: ["42/comm": "python3\n"])
        try proc.link("42/fd/3", to: "socket:[2752065]")
        let socket = FakeTransport(portID: RecordedNode.portID, replies: RecordedNode.listing)
        let listing = try nodeReader(socketDiag: socket, proc: proc.root).listeningSockets()
        #expect(
            listing.map(\.owners)
                == Self.recorded.map {
                    $0.inode == 2_752_065 ? [ListeningSocket.Owner(pid: 42, command: "python3")] : []
                })
    }

    /// NLMSG_DONE carries the dump's status; libmnl's own walk would end the dump as complete.
    @Test func failedDumpEndsWithItsErrno() {
        let walk = DatagramWalk(RecordedNode.sctpAbsent[0], sequence: 1, portID: RecordedNode.portID)
        #expect(walk.messages.isEmpty)
        #expect(walk.outcome == .failed(errno: 2))
    }

    /// ENOENT is no sockets for SCTP only: for TCP or UDP it is a listing that failed.
    @Test(arguments: [(0, UInt32(1), "list the tcp ipv4 sockets"), (4, UInt32(3), "list the udp ipv4 sockets")])
    func missingTCPOrUDPHandlerIsAnError(datagramsBefore: Int, sequence: UInt32, operation: String) {
        let replies = RecordedNode.listing.prefix(datagramsBefore) + [RecordedNode.numbered(RecordedNode.sctpAbsent[0], sequence: sequence)]
        let socket = FakeTransport(portID: RecordedNode.portID, replies: Array(replies))
        #expect(throws: HostNetworkError(operation: operation, errno: 2, message: "No such file or directory")) {
            try nodeReader(socketDiag: socket).listeningSockets()
        }
    }

    /// Any other SCTP error stays one.
    @Test func otherSCTPErrorsSurface() {
        let replies = RecordedNode.listing.dropLast(2) + [Control.error(1, sequence: 5)]
        let socket = FakeTransport(replies: Array(replies))
        #expect(throws: HostNetworkError(operation: "list the sctp ipv4 sockets", errno: 1, message: "Operation not permitted")) {
            try nodeReader(socketDiag: socket).listeningSockets()
        }
    }

    @Test func socketErrorSurfacesAsTheTypedError() {
        let dumps = NodeDumps(
            openSocketDiag: { () throws(NetlinkError) in
                throw NetlinkError(operation: "open sock_diag netlink socket", errno: 93)
            }, openRoute: { () throws(NetlinkError) in FakeTransport() }, firstSequence: 1, interfaceName: { _ in nil })
        let reader = NetlinkNodeReader(dumps: dumps, proc: "/proc")
        #expect(throws: HostNetworkError(operation: "open sock_diag netlink socket", errno: 93, message: "Protocol not supported")) {
            try reader.listeningSockets()
        }
    }

    /// A message too short for its `inet_diag_msg` is skipped, not read past its end.
    @Test func truncatedSocketMessageIsSkipped() {
        var bytes = Array(RecordedNode.tcpIPv4[0].prefix(16 + 40))
        bytes[0] = UInt8(bytes.count)
        let message = ReplyMessage(type: Kernel.SocketDiag.byFamily, flags: 2, bytes: bytes)
        #expect(message.diagSocket == nil)
        #expect(SocketDiagMessages.listener(from: message, protocol: .tcp) == nil)
    }
}
