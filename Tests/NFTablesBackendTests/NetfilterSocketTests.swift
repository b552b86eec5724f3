import PortmapCore
import Testing

@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A netfilter socket that answers every send with the next canned datagrams, recording what was sent.
final class ScriptedTransport: NetfilterTransport, @unchecked Sendable {
    let portID: UInt32
    private(set) var sent: [[UInt8]] = []
    private var answers: [[[UInt8]]]
    private var queue: [[UInt8]] = []
    private(set) var reserved: [Int] = []

    init(portID: UInt32 = 0, answers: [[[UInt8]]]) {
        self.portID = portID
        self.answers = answers
    }

    func send(_ message: [UInt8]) throws(NetlinkError) {
        sent.append(message)
        if !answers.isEmpty { queue += answers.removeFirst() }
    }

    func receive() throws(NetlinkError) -> [UInt8] {
        guard !queue.isEmpty else { throw NetlinkError(operation: "scripted transport: nothing to receive", errno: EAGAIN) }
        return queue.removeFirst()
    }

    func hasQueuedDatagram() -> Bool { !queue.isEmpty }

    var queued: Int { queue.count }

    func reserveSendBuffer(for size: Int) throws(NetlinkError) { reserved.append(size) }
}

/// `NetfilterSocket`: how a batch is framed and numbered, and what is made of the kernel's answers.
struct NetfilterSocketTests {
    /// Two small whole messages, as a caller would build them (numbered 0).
    static let first = hex("1c000000 0c0a 0104 00000000 00000000", "02 00 0000", "0800 0100 61626300")
    static let second = hex("14000000 0e0a 0100 00000000 00000000", "0a 00 0000")

    @Test func batchIsFramedNumberedAndAcknowledgedAtItsLastMessage() throws {
        let batch = NetfilterBatch(generation: 0x0102_0304, messages: [Self.first, Self.second])
        #expect(
            try batch.encoded(firstSequence: 7)
                == hex(
                    "1c000000 1000 0100 07000000 00000000",  // NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq 7
                    "00 00 000a",  // AF_UNSPEC, NFNETLINK_V0, res_id NFNL_SUBSYS_NFTABLES (big-endian)
                    "0800 0100 01020304",  // NFNL_BATCH_GENID, big-endian
                    "1c000000 0c0a 0104 08000000 00000000", "02 00 0000", "0800 0100 61626300",  // seq 8, flags kept
                    "14000000 0e0a 0500 09000000 00000000", "0a 00 0000",  // seq 9, NLM_F_ACK added
                    "14000000 1100 0100 0a000000 00000000", "00 00 000a"  // NFNL_MSG_BATCH_END, seq 10
                ))
    }

    /// Without a generation the begin message has no attribute.
    @Test func batchWithoutGenerationHasNoAttribute() throws {
        let batch = NetfilterBatch(generation: nil, messages: [Self.second])
        #expect(
            try batch.encoded(firstSequence: 1)
                == hex(
                    "14000000 1000 0100 01000000 00000000", "00 00 000a",
                    "14000000 0e0a 0500 02000000 00000000", "0a 00 0000",
                    "14000000 1100 0100 03000000 00000000", "00 00 000a"
                ))
    }

    @Test func aMessageThatIsNotOneWholeMessageIsRefusedBeforeSending() {
        let transport = ScriptedTransport(answers: [])
        let socket = NetfilterSocket(transport: transport, firstSequence: 1)
        #expect(throws: HostNetworkError.self) { try socket.send(NetfilterBatch(generation: 1, messages: [Self.first + [0, 0, 0, 0]])) }
        #expect(throws: HostNetworkError.self) { try socket.send(NetfilterBatch(generation: 1, messages: [Array(Self.first.prefix(20))])) }
        #expect(transport.sent.isEmpty)
    }

    @Test func acknowledgedBatchIsAccepted() throws {
        let transport = ScriptedTransport(portID: 9, answers: [[Control.error(0, sequence: 12, portID: 9)]])
        let socket = NetfilterSocket(transport: transport, firstSequence: 10)
        #expect(try socket.send(NetfilterBatch(generation: 1, messages: [Self.first, Self.second])) == .accepted)
        #expect(transport.reserved == [transport.sent[0].count])
    }

    /// Errors for several messages in one datagram, then the last message's ACK: each failure
    /// names its message.
    @Test func refusalsNameTheirMessages() throws {
        let transport = ScriptedTransport(answers: [
            [
                Control.error(EEXIST, sequence: 11) + Control.error(ENOENT, sequence: 12)
                    + Control.error(0, sequence: 13)
            ]
        ])
        let socket = NetfilterSocket(transport: transport, firstSequence: 10)
        let outcome = try socket.send(NetfilterBatch(generation: 1, messages: [Self.first, Self.second, Self.second]))
        #expect(outcome == .refused([NetfilterBatchFailure(message: 0, errno: EEXIST), NetfilterBatchFailure(message: 1, errno: ENOENT)]))
    }

    @Test func restartOnTheBeginMessageIsAChangedGeneration() throws {
        let transport = ScriptedTransport(answers: [[Control.error(ERESTART, sequence: 10)]])
        let socket = NetfilterSocket(transport: transport, firstSequence: 10)
        #expect(try socket.send(NetfilterBatch(generation: 1, messages: [Self.first])) == .generationChanged)
    }

    /// A failed commit is answered on the begin message, and what follows it (the ACK of the last
    /// message) is already queued: read too, so the socket is left clean.
    @Test func failedCommitIsReadToTheEnd() throws {
        let transport = ScriptedTransport(answers: [[Control.error(ENOMEM, sequence: 10), Control.error(0, sequence: 11)]])
        let socket = NetfilterSocket(transport: transport, firstSequence: 10)
        #expect(try socket.send(NetfilterBatch(generation: 1, messages: [Self.first])) == .refused([NetfilterBatchFailure(message: nil, errno: ENOMEM)]))
        #expect(transport.queued == 0)
    }

    @Test func emptyBatchIsNotSent() throws {
        let transport = ScriptedTransport(answers: [])
        #expect(try NetfilterSocket(transport: transport, firstSequence: 1).send(NetfilterBatch(generation: 1, messages: [])) == .accepted)
        #expect(transport.sent.isEmpty)
    }

    /// A reply from another port than the socket's is not taken for the kernel's.
    @Test func repliesFromAnotherPortAreAnError() {
        let transport = ScriptedTransport(portID: 9, answers: [[Control.error(0, sequence: 11, portID: 8)]])
        #expect {
            try NetfilterSocket(transport: transport, firstSequence: 10).send(NetfilterBatch(generation: 1, messages: [Self.first]))
        } throws: { error in
            (error as? HostNetworkError)?.errno == Errno(ESRCH)
        }
    }

    /// A query is renumbered, and a refusal comes back as the operation's errno.
    @Test func queriesAreNumberedAndRefusalsThrown() throws {
        let transport = ScriptedTransport(answers: [[Control.error(ENOENT, sequence: 5)]])
        let socket = NetfilterSocket(transport: transport, firstSequence: 5)
        #expect(throws: HostNetworkError(operation: "look up x", errno: ENOENT, message: "No such file or directory")) {
            try socket.query(Self.second, operation: "look up x")
        }
        #expect(NetlinkBytes(transport.sent[0]).sequence == 5)
    }
}
