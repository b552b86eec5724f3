#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// nf_tables' side of the NETLINK_NETFILTER bus: requests answered by one message or a dump, and
/// batches, the kernel's transactions. The nf_tables messages themselves are built and read by
/// the caller (NFTablesBackend, with libnftnl) as whole netlink messages; this numbers them,
/// frames batches, sends them and walks the replies, through libmnl like the rest of the module.
///
/// One socket serves one verb: its requests are numbered from `firstSequence` on, one at a time.
/// Failures are `HostNetworkError`s, as for the module's other public types.
public final class NetfilterSocket {
    private let transport: any NetfilterTransport
    private var nextSequence: UInt32

    /// A netfilter netlink socket in the calling thread's network namespace.
    public convenience init() throws(HostNetworkError) {
        do {
            self.init(transport: try MnlSocket(.netfilter), firstSequence: UInt32(truncatingIfNeeded: time(nil)))
        } catch {
            throw error.hostNetworkError
        }
    }

    /// A transport and sequence numbers injected, for tests.
    init(transport: any NetfilterTransport, firstSequence: UInt32) {
        self.transport = transport
        nextSequence = firstSequence
    }

    /// Sends `request`, a whole message (NLM_F_REQUEST, and NLM_F_DUMP for a dump), and returns
    /// the data messages of its reply, each whole, header included. A refusal (NLMSG_ERROR) is
    /// thrown as `operation` failing with the kernel's errno.
    public func query(_ request: [UInt8], operation: String) throws(HostNetworkError) -> [[UInt8]] {
        let sequence = take(1)
        do throws(NetlinkError) {
            guard let message = PrebuiltMessage.renumbered(request, sequence: sequence, addingFlags: 0) else {
                throw NetlinkError(operation: "\(operation): the request is not one whole netlink message", errno: EINVAL)
            }
            try transport.send(message)
            return try transport.reply(to: sequence, operation: operation).map(\.bytes)
        } catch {
            throw error.hostNetworkError
        }
    }

    /// Sends `batch` and reads what the kernel made of it. The kernel processes a batch while it
    /// is being sent and answers only the messages it refuses, and the last one, which asks for
    /// an ACK; a refusal of the batch as a whole (its begin message: a changed generation, a
    /// failed commit) can come instead of that ACK, and whatever follows it is already queued.
    /// An empty batch is not sent.
    public func send(_ batch: NetfilterBatch) throws(HostNetworkError) -> NetfilterBatchOutcome {
        guard !batch.messages.isEmpty else { return .accepted }
        let first = take(UInt32(batch.messages.count) + 2)
        let last = first &+ UInt32(batch.messages.count)
        var failures: [NetfilterBatchFailure] = []
        do throws(NetlinkError) {
            let datagram = try batch.encoded(firstSequence: first)
            try transport.reserveSendBuffer(for: datagram.count)
            try transport.send(datagram)
            var answered = false
            while !answered || transport.hasQueuedDatagram() {
                let walk = BatchReplyWalk(try transport.receive(), portID: transport.portID)
                if let code = walk.failure { throw NetlinkError(operation: "read the replies to an nftables batch", errno: code) }
                for (sequence, code) in walk.statuses {
                    let offset = sequence &- first
                    if offset == 0 {
                        if code == ERESTART { return .generationChanged }
                        failures.append(NetfilterBatchFailure(message: nil, errno: code))
                        answered = true
                    } else if offset <= UInt32(batch.messages.count) {
                        if code != 0 { failures.append(NetfilterBatchFailure(message: Int(offset) - 1, errno: code)) }
                        answered = answered || sequence == last
                    }
                }
            }
        } catch {
            throw error.hostNetworkError
        }
        return failures.isEmpty ? .accepted : .refused(failures)
    }

    /// The next `count` sequence numbers.
    private func take(_ count: UInt32) -> UInt32 {
        defer { nextSequence &+= count }
        return nextSequence
    }
}
