import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// nf_tables' side of the NETLINK_NETFILTER bus: requests answered by one message or a dump, and
/// batches, the kernel's transactions. The nf_tables messages themselves are built and read by
/// the caller (NFTablesBackend, with libnftnl) as whole netlink messages; this numbers them,
/// frames batches, sends them and walks the replies, through libmnl like the rest of the module.
///
/// One socket serves one verb: its requests are numbered from `firstSequence` on, and go out one
/// at a time, but for lookups (`lookUp`), which go out several together.
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

    /// Sends `requests`, each a whole message looking up one object (not a dump) and asking for an
    /// ACK, as `nft get` does, `lookupsPerDatagram` to a datagram, and returns each one's answer in
    /// order: the data messages of its reply, or the kernel's refusal (ENOENT: no such object).
    /// The kernel answers a datagram's requests one after the other while it is being sent, so a
    /// few lookups cost a send and their receives, not a round trip each. What the socket fails
    /// at is thrown.
    public func lookUp(_ requests: [[UInt8]], operation: String) throws(HostNetworkError) -> [Result<[[UInt8]], HostNetworkError>] {
        var answers: [Result<[[UInt8]], HostNetworkError>] = []
        do throws(NetlinkError) {
            for start in stride(from: 0, to: requests.count, by: Self.lookupsPerDatagram) {
                let group = requests[start..<min(start + Self.lookupsPerDatagram, requests.count)]
                let first = take(UInt32(group.count))
                var datagram: [UInt8] = []
                for (offset, request) in group.enumerated() {
                    guard let message = PrebuiltMessage.renumbered(request, sequence: first &+ UInt32(offset), addingFlags: 0) else {
                        throw NetlinkError(operation: "\(operation): a request is not one whole netlink message", errno: EINVAL)
                    }
                    datagram += message
                }
                try transport.send(datagram)
                for offset in 0..<UInt32(group.count) {
                    answers.append(try answer(to: first &+ offset, operation: operation))
                }
            }
        } catch {
            throw error.hostNetworkError
        }
        return answers
    }

    /// At most this many lookups go out together: their replies wait in the socket's receive
    /// buffer until read, and one that does not fit is lost (ENOBUFS). 32 answers and their ACKs
    /// take a few tens of kilobytes of the default 208 KiB.
    static let lookupsPerDatagram = 32

    /// The reply to the lookup numbered `sequence`: the object, then the ACK that ends it, or a
    /// refusal instead (NLMSG_ERROR, or a message that answers something else).
    private func answer(to sequence: UInt32, operation: String) throws(NetlinkError) -> Result<[[UInt8]], HostNetworkError> {
        var messages: [[UInt8]] = []
        while true {
            let walk = DatagramWalk(try transport.receive(), sequence: sequence, portID: transport.portID)
            messages += walk.messages.map(\.bytes)
            switch walk.outcome {
            case .more: continue
            // A data message ends a walk by itself; the ACK comes in a datagram of its own.
            case .finished where !walk.messages.isEmpty: continue
            case .finished: return .success(messages)
            case .failed(let code): return .failure(HostNetworkError(operation: operation, errno: code))
            }
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
