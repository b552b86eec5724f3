import PortmapCore
import Testing

@testable import Netlink

/// Entries read from dumps the kernel really sent (see `Recorded`).
struct ConntrackParsingTests {
    static func tuple(
        _ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16,
        protocolNumber: UInt8 = 17
    ) -> ConntrackTuple {
        ConntrackTuple(
            source: IPAddress(source)!, destination: IPAddress(destination)!, protocolNumber: protocolNumber,
            sourcePort: sourcePort, destinationPort: destinationPort)
    }

    static func entries(_ datagrams: [[UInt8]], portID: UInt32) -> [ConntrackEntry] {
        datagrams.flatMap { DatagramWalk($0, sequence: 1, portID: portID).messages }.compactMap(ConntrackMessages.entry)
    }

    @Test func ipv4DumpEntries() {
        #expect(
            Self.entries(Recorded.ipv4Dump, portID: Recorded.ipv4DumpPortID) == [
                ConntrackEntry(original: Self.tuple("198.51.100.1", 40010, "192.0.2.1", 5000, protocolNumber: 6)),
                ConntrackEntry(original: Self.tuple("198.51.100.1", 40001, "192.0.2.1", 5000)),
                ConntrackEntry(original: Self.tuple("127.0.0.1", 40002, "127.0.0.1", 5001)),
                ConntrackEntry(original: Self.tuple("198.51.100.1", 40003, "192.0.2.1", 6000), zone: 7),
            ])
    }

    @Test func ipv6DumpEntries() {
        #expect(
            Self.entries(Recorded.ipv6Dump, portID: Recorded.ipv6DumpPortID) == [
                ConntrackEntry(original: Self.tuple("::1", 40005, "::1", 5002)),
                ConntrackEntry(original: Self.tuple("2001:db8::1", 40004, "2001:db8::1", 5000)),
            ])
    }

    /// The entries come in one datagram without NLMSG_DONE, so the reply goes on; the next one ends it.
    @Test func dumpDatagramsWalk() {
        let entries = DatagramWalk(Recorded.ipv4Dump[0], sequence: 1, portID: Recorded.ipv4DumpPortID)
        #expect(entries.messages.count == 4)
        #expect(entries.outcome == .more)
        let done = DatagramWalk(Recorded.ipv4Dump[1], sequence: 1, portID: Recorded.ipv4DumpPortID)
        #expect(done.messages.isEmpty)
        #expect(done.outcome == .finished)
    }

    /// libmnl checks that a reply answers this request from this socket.
    @Test(arguments: [
        (sequence: UInt32(2), portID: Recorded.ipv4DumpPortID, errno: Int32(71)),  // EPROTO
        (sequence: UInt32(1), portID: UInt32(0x1234), errno: Int32(3)),
    ])  // ESRCH
    func repliesToSomethingElseFail(sequence: UInt32, portID: UInt32, errno: Int32) {
        let walk = DatagramWalk(Recorded.ipv4Dump[0], sequence: sequence, portID: portID)
        #expect(walk.outcome == .failed(errno: errno))
    }

    @Test func kernelErrorBecomesItsErrno() {
        let walk = DatagramWalk(Recorded.deleteAbsent, sequence: 9, portID: Recorded.deleteAbsentPortID)
        #expect(walk.messages.isEmpty)
        #expect(walk.outcome == .failed(errno: 2))
    }

    /// Messages that are not conntrack entries, and entries without ports, are not flush candidates.
    @Test func nonEntriesAreSkipped() {
        let route = DatagramWalk(Recorded.routeToVeth, sequence: 7, portID: 0).messages
        #expect(route.count == 1)
        #expect(route.compactMap(ConntrackMessages.entry).isEmpty)
        // The TCP entry of the recorded dump with its CTA_TUPLE_PROTO emptied, as an ICMP one has no ports.
        var bytes = Array(Recorded.ipv4Dump[0][0..<0xd4])
        let ports = hex("060002009c4a00000600030013880000")
        let start = bytes.firstRange(of: ports)!
        bytes.replaceSubrange(start, with: [UInt8](repeating: 0, count: ports.count))  // two zero-type, zero-length attributes
        let message = ReplyMessage(type: Kernel.Conntrack.newMessage, flags: 2, bytes: bytes)
        #expect(ConntrackMessages.entry(from: message) == nil)
    }

    /// An attribute too short for the integer asked of it reads as nil, not as bytes past its end.
    @Test func shortAttributeReadsAsNil() {
        let attribute = ReplyAttribute(bytes: hex("0600 0300 1388"))
        #expect(attribute.type == 3)
        #expect(attribute.u16 == 0x8813)
        #expect(attribute.u32 == nil)
    }
}
