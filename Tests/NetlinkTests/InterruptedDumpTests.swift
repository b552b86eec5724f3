import PortmapCore
import Testing

@testable import Netlink

/// A dump the kernel marks interrupted (NLM_F_DUMP_INTR: nf_tables sets it when a batch commits
/// while a rule dump runs) fails with EINTR after the rest of it is read, so the transport's next
/// request gets its own replies instead of the old dump's, which failed it with EPROTO.
struct InterruptedDumpTests {
    /// A 20-byte data message of a multipart reply, with extra `flags`.
    static func part(sequence: UInt32, flags: UInt16 = 0) -> [UInt8] {
        Control.header(length: 20, type: 0x0A07, flags: 0x2 | flags, sequence: sequence, portID: 0) + [2, 0, 0, 0]
    }

    @Test func anInterruptedDumpIsReadToItsEndAndFailsWithEINTR() throws {
        let interrupted: UInt16 = 0x10
        let transport = FakeTransport(replies: [
            Self.part(sequence: 7) + Self.part(sequence: 7, flags: interrupted),
            Self.part(sequence: 7, flags: interrupted),
            Self.part(sequence: 7, flags: interrupted) + Control.done(sequence: 7),
            Self.part(sequence: 8) + Control.done(sequence: 8),
        ])
        #expect(throws: NetlinkError(operation: "list chain X", errno: 4)) {
            try transport.reply(to: 7, operation: "list chain X")
        }
        #expect(transport.repliesLeft == 1, "the interrupted dump's datagrams are consumed")
        #expect(try transport.reply(to: 8, operation: "list chain X").count == 1)
    }

    @Test func theEndMayComeInTheInterruptedDatagram() throws {
        let transport = FakeTransport(replies: [
            Self.part(sequence: 3, flags: 0x10) + Control.done(sequence: 3),
            Self.part(sequence: 4) + Control.done(sequence: 4),
        ])
        #expect(throws: NetlinkError(operation: "dump", errno: 4)) { try transport.reply(to: 3, operation: "dump") }
        #expect(try transport.reply(to: 4, operation: "dump").count == 1)
    }
}
