#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An nf_tables transaction: messages the kernel applies all together or not at all, between a
/// begin and an end message (nfnetlink batches serve no other subsystem).
///
/// The messages come whole, built by the caller (NFTablesBackend, with libnftnl); sending the
/// batch numbers them and frames them (`NetfilterSocket.send`).
public struct NetfilterBatch: Sendable, Equatable {
    /// The ruleset generation (NFT_MSG_GETGEN) the batch was planned from: the kernel refuses the
    /// batch if another has committed since. nil: applied whatever happened in between.
    public var generation: UInt32?
    /// Each a whole netlink message (header, nfgenmsg, attributes); their sequence numbers are
    /// replaced when sent.
    public var messages: [[UInt8]]

    public init(generation: UInt32?, messages: [[UInt8]]) {
        self.generation = generation
        self.messages = messages
    }

    /// The datagram: the begin message numbered `firstSequence`, the messages after it, the last
    /// of them asking for an ACK (the sign the kernel got to the end), then the end message.
    func encoded(firstSequence: UInt32) throws(NetlinkError) -> [UInt8] {
        let generation = generation.map { [NetlinkAttribute.u32(Kernel.Batch.generation, $0.bigEndian)] } ?? []
        var datagram = try Self.delimiter(Kernel.Batch.begin, attributes: generation).encoded(sequence: firstSequence)
        for (offset, message) in messages.enumerated() {
            let sequence = firstSequence &+ 1 &+ UInt32(truncatingIfNeeded: offset)
            let flags = offset == messages.count - 1 ? Kernel.Flags.acknowledge : 0
            guard let numbered = PrebuiltMessage.renumbered(message, sequence: sequence, addingFlags: flags) else {
                throw NetlinkError(
                    operation: "frame message \(offset + 1) of an nftables batch, not one whole netlink message",
                    errno: EINVAL)
            }
            datagram += numbered
        }
        datagram += try Self.delimiter(Kernel.Batch.end, attributes: [])
            .encoded(sequence: firstSequence &+ 1 &+ UInt32(truncatingIfNeeded: messages.count))
        return datagram
    }

    private static func delimiter(_ type: UInt16, attributes: [NetlinkAttribute]) -> NetlinkRequest {
        NetlinkRequest(type: type, flags: Kernel.Flags.request, header: .batch(subsystem: Kernel.Batch.nftables), attributes: attributes)
    }
}

/// What the kernel made of a batch.
public enum NetfilterBatchOutcome: Sendable, Equatable {
    /// Every message was accepted: the batch is applied.
    case accepted
    /// Another batch committed after `generation` was read (ERESTART): nothing was applied; read
    /// the ruleset again and plan anew.
    case generationChanged
    /// Nothing was applied: the kernel refused these messages (or the batch as a whole).
    case refused([NetfilterBatchFailure])
}

/// One refusal in a batch's replies.
public struct NetfilterBatchFailure: Sendable, Equatable {
    /// The index of the message in `NetfilterBatch.messages`; nil for the batch as a whole (a
    /// failed commit, a missing capability).
    public var message: Int?
    public var errno: Int32

    public init(message: Int?, errno: Int32) {
        self.message = message
        self.errno = errno
    }

    /// The C library's words for `errno`.
    public var reason: String { String(cString: strerror(errno)) }
}

/// The statuses one datagram of batch replies carried, by the sequence number of the message each
/// answers (0 for an ACK, else the errno), or why it could not be read.
struct BatchReplyWalk {
    var statuses: [(sequence: UInt32, errno: Int32)]
    var failure: Int32?
}
