/// One message of a reply, copied out of the receive buffer by `mnl_cb_run`'s walk.
///
/// Reading its attributes goes through libmnl again (`MnlMessages.swift`), so the bytes are kept
/// whole, header included.
struct ReplyMessage: Sendable {
    var type: UInt16
    var flags: UInt16
    var bytes: [UInt8]
}

/// One attribute of a reply: the whole TLV as the kernel wrote it (header and payload), so libmnl
/// can validate it, read it and parse what is nested in it.
struct ReplyAttribute: Sendable {
    var bytes: [UInt8]
}

/// The part of a sock_diag reply's `struct inet_diag_msg` that places a socket, read in C: the
/// port in host order, the address as the kernel keeps it.
struct SocketDiagHeader: Equatable, Sendable {
    var family: UInt8
    var port: UInt16
    /// `idiag_src`, all 16 bytes in network order; an AF_INET address is the first 4.
    var address: [UInt8]
    var inode: UInt32
}

/// What one received datagram held, as far as one request is concerned.
struct DatagramWalk {
    enum Outcome: Equatable {
        /// The datagram is used up and the reply goes on in the next one (a dump in progress).
        case more
        /// NLMSG_DONE, an ACK, or the single message of a non-multipart reply.
        case finished
        /// An NLMSG_ERROR from the kernel, an NLMSG_DONE ending a dump that failed part-way, or a
        /// message that was not an answer to the request.
        case failed(errno: Int32)
    }

    var messages: [ReplyMessage]
    var outcome: Outcome
}
