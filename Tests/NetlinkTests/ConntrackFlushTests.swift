import PortmapCore
import Testing

@testable import Netlink

/// Which entries the flush deletes, in what order, and what it makes of the kernel's answers.
struct ConntrackFlushTests {
    typealias Case = (destinations: [ConntrackDestination], deleted: [ConntrackEntry])

    static let tcp5000 = ConntrackEntry(original: ConntrackParsingTests.tuple("198.51.100.1", 40010, "192.0.2.1", 5000, protocolNumber: 6))
    static let udp5000 = ConntrackEntry(original: ConntrackParsingTests.tuple("198.51.100.1", 40001, "192.0.2.1", 5000))
    static let udp5001 = ConntrackEntry(original: ConntrackParsingTests.tuple("127.0.0.1", 40002, "127.0.0.1", 5001))
    static let udp6000 = ConntrackEntry(original: ConntrackParsingTests.tuple("198.51.100.1", 40003, "192.0.2.1", 6000), zone: 7)

    static func destination(_ port: UInt16, _ address: String? = nil) -> ConntrackDestination {
        ConntrackDestination(port: port, address: address.map { IPAddress($0)! })
    }

    /// Port alone matches any address; port and address match only that address; TCP on a matching
    /// port and UDP on other ports stay.
    static let filterCases: [Case] = [
        ([destination(5000)], [udp5000]),
        ([destination(5000, "192.0.2.1")], [udp5000]),
        ([destination(5000, "192.0.2.2")], []),
        ([destination(5001), destination(6000)], [udp5001, udp6000]),
        ([destination(6000, "192.0.2.1"), destination(5000)], [udp5000, udp6000]),
        ([destination(7000)], []),
        ([destination(5000, "2001:db8::1")], []),
    ]

    /// Against the recorded IPv4 dump: one delete per match, numbered after the dump, in dump order.
    @Test(arguments: filterCases)
    func deletesMatchingEntries(_ destinations: [ConntrackDestination], _ deleted: [ConntrackEntry]) throws {
        let portID = Recorded.ipv4DumpPortID
        let acks = deleted.indices.map { Control.ack(sequence: 2 + UInt32($0), portID: portID) }
        let socket = FakeTransport(portID: portID, replies: Recorded.ipv4Dump + acks)
        let count = try hostNetwork(conntrack: socket).flushUDPConntrack(family: .ipv4, destinations: destinations)
        #expect(count == deleted.count)
        let expected =
            try [ConntrackMessages.dumpRequest(family: .ipv4).encoded(sequence: 1)]
            + deleted.enumerated().map { try ConntrackMessages.deleteRequest($1).encoded(sequence: 2 + UInt32($0)) }
        #expect(socket.sent == expected)
        #expect(socket.repliesLeft == 0)
    }

    @Test func ipv6() throws {
        let portID = Recorded.ipv6DumpPortID
        let socket = FakeTransport(portID: portID, replies: Recorded.ipv6Dump + [Control.ack(sequence: 2, portID: portID)])
        let count = try hostNetwork(conntrack: socket)
            .flushUDPConntrack(family: .ipv6, destinations: [Self.destination(5000, "2001:db8::1"), Self.destination(5003)])
        #expect(count == 1)
        #expect(
            socket.sent == [
                try ConntrackMessages.dumpRequest(family: .ipv6).encoded(sequence: 1),
                try ConntrackMessages.deleteRequest(ConntrackEntry(original: ConntrackParsingTests.tuple("2001:db8::1", 40004, "2001:db8::1", 5000)))
                    .encoded(sequence: 2),
            ])
    }

    @Test func entryGoneBeforeItsDeleteCountsAsDeleted() throws {
        let socket = FakeTransport(replies: Recorded.ipv4Dump + [Control.error(2, sequence: 2), Control.ack(sequence: 3)])
        let count = try hostNetwork(conntrack: socket).flushUDPConntrack(family: .ipv4, destinations: [Self.destination(5000), Self.destination(6000)])
        #expect(count == 2)
        #expect(socket.sent.count == 3)
    }

    @Test func otherDeleteErrorsSurface() {
        let socket = FakeTransport(replies: Recorded.ipv4Dump + [Control.error(1, sequence: 2)])
        #expect(
            throws: HostNetworkError(
                operation: "delete conntrack entry udp 198.51.100.1:40001 -> 192.0.2.1:5000",
                errno: 1, message: "Operation not permitted")
        ) {
            try hostNetwork(conntrack: socket).flushUDPConntrack(family: .ipv4, destinations: [Self.destination(5000)])
        }
    }

    @Test func dumpErrorSurfacesAsTheTypedError() {
        let socket = FakeTransport(replies: [Control.error(1, sequence: 1)])
        #expect(throws: HostNetworkError(operation: "dump the ipv4 conntrack table", errno: 1, message: "Operation not permitted")) {
            try hostNetwork(conntrack: socket).flushUDPConntrack(family: .ipv4, destinations: [Self.destination(5000)])
        }
        #expect(socket.sent.count == 1)
    }

    @Test func socketErrorSurfacesAsTheTypedError() {
        let failing: NetlinkTransportOpener = { () throws(NetlinkError) in
            throw NetlinkError(operation: "open netfilter netlink socket", errno: 93)
        }
        let network = NetlinkHostNetwork(
            openConntrack: failing, openRoute: failing, procSys: "/nonexistent/proc/sys", firstSequence: 1,
            interfaceName: { _ in nil })
        #expect(throws: HostNetworkError(operation: "open netfilter netlink socket", errno: 93, message: "Protocol not supported")) {
            try network.flushUDPConntrack(family: .ipv6, destinations: [Self.destination(53)])
        }
    }

    /// A namespace that tracks nothing is not dumped (the dump walks the kernel's whole hash);
    /// any other count, or no count file, is.
    @Test(arguments: [("0\n", 0), ("3\n", 1), (nil, 1)] as [(String?, Int)])
    func anEmptyConntrackTableIsNotDumped(count: String?, dumps: Int) throws {
        let procSys = try ScratchProcSys(conntrackCount: count)
        let socket = FakeTransport(portID: Recorded.ipv4DumpPortID, replies: Recorded.ipv4Dump)
        let flushed = try hostNetwork(conntrack: socket, procSys: procSys.root).flushUDPConntrack(family: .ipv4, destinations: [Self.destination(7000)])
        #expect(flushed == 0)
        #expect(socket.sent.count == dumps)
    }

    @Test func nothingToFlushOpensNoSocket() throws {
        let opens = OpenCounter()
        #expect(try hostNetwork(opens: opens).flushUDPConntrack(family: .ipv4, destinations: []) == 0)
        #expect(opens.count == 0)
    }

    /// A dump that lists an entry twice (the kernel restarted a bucket) deletes it once.
    @Test func duplicateEntriesAreDeletedOnce() throws {
        let entry = Recorded.ipv4Dump[0][0xd4..<(0xd4 + 0xa4)]
        let socket = FakeTransport(replies: [Array(entry + entry), Recorded.ipv4Dump[1], Control.ack(sequence: 2)])
        #expect(try hostNetwork(conntrack: socket).flushUDPConntrack(family: .ipv4, destinations: [Self.destination(5000)]) == 1)
        #expect(socket.sent.count == 2)
    }

    @Test func entriesDescribeThemselvesLikeConntrack() {
        #expect(ConntrackFlush.describe(Self.udp5000.original) == "udp 198.51.100.1:40001 -> 192.0.2.1:5000")
        #expect(
            ConntrackFlush.describe(ConntrackParsingTests.tuple("2001:db8::1", 1, "2001:db8::2", 2))
                == "udp [2001:db8::1]:1 -> [2001:db8::2]:2")
    }
}
