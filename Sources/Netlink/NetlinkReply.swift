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

/// What one received datagram held, as far as one request is concerned.
struct DatagramWalk {
    enum Outcome: Equatable {
        /// The datagram is used up and the reply goes on in the next one (a dump in progress).
        case more
        /// NLMSG_DONE, an ACK, or the single message of a non-multipart reply.
        case finished
        /// An NLMSG_ERROR from the kernel, or a message that was not an answer to the request.
        case failed(errno: Int32)
    }

    var messages: [ReplyMessage]
    var outcome: Outcome
}
