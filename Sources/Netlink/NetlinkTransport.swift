import PortmapCore

/// Where requests go and replies come from: a netlink socket, or in tests a recording that replays
/// canned replies. Bytes only, so the same message code runs against both.
protocol NetlinkTransport: AnyObject {
    /// The port ID replies are addressed to; 0 skips the check.
    var portID: UInt32 { get }

    /// Sends one request.
    func send(_ message: [UInt8]) throws(NetlinkError)

    /// Waits for the next reply datagram, which may hold several messages.
    func receive() throws(NetlinkError) -> [UInt8]
}

/// Opens a transport when a verb first needs one, so a verb with nothing to do opens no socket.
typealias NetlinkTransportOpener = @Sendable () throws(NetlinkError) -> any NetlinkTransport

extension NetlinkTransport {
    /// Sends `request` numbered `sequence` and collects the data messages of its reply, up to
    /// NLMSG_DONE, the ACK or the single answer. One request at a time: a dump is read to its end
    /// before anything else goes out on this transport.
    func exchange(_ request: NetlinkRequest, sequence: UInt32, operation: String) throws(NetlinkError) -> [ReplyMessage] {
        try send(request.encoded(sequence: sequence))
        return try reply(to: sequence, operation: operation)
    }

    /// The data messages answering the request numbered `sequence`, already sent.
    ///
    /// A dump the kernel marks interrupted (NLM_F_DUMP_INTR: the objects changed while it ran,
    /// as nf_tables does when a batch commits) fails with EINTR, after its remaining datagrams are
    /// read to its NLMSG_DONE, so that the next request on this transport sees its own replies.
    func reply(to sequence: UInt32, operation: String) throws(NetlinkError) -> [ReplyMessage] {
        var messages: [ReplyMessage] = []
        while true {
            let datagram = try receive()
            let walk = DatagramWalk(datagram, sequence: sequence, portID: portID)
            messages += walk.messages
            switch walk.outcome {
            case .more: continue
            case .finished: return messages
            case .failed(let code) where code == Errno.interruptedSystemCall.rawValue:
                var last = datagram
                while !DatagramWalk.endsDump(last, sequence: sequence) { last = try receive() }
                throw NetlinkError(operation: operation, errno: code)
            case .failed(let code): throw NetlinkError(operation: operation, errno: code)
            }
        }
    }
}
