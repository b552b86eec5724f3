/// One netlink request as Swift values: what the kernel will read, before libmnl lays it out
/// (`MnlMessages.swift`). The sequence number is given at encoding time, so a request value can be
/// compared in tests and sent more than once.
struct NetlinkRequest: Equatable, Sendable {
    /// The subsystem header between `nlmsghdr` and the attributes.
    enum FamilyHeader: Equatable, Sendable {
        /// `struct nfgenmsg`: address family, version NFNETLINK_V0, res_id 0.
        case netfilter(family: UInt8)
        /// `struct nfgenmsg` of a batch's begin or end: AF_UNSPEC, and the nfnetlink subsystem the
        /// batch is for in res_id.
        case batch(subsystem: UInt16)
        /// `struct rtmsg`: address family, destination prefix length and `rtm_flags`, everything else 0.
        case route(family: UInt8, destinationLength: UInt8, flags: UInt32 = 0)
        /// `struct ifaddrmsg`: address family, everything else 0.
        case address(family: UInt8)
        /// `struct ifinfomsg`: address family, everything else 0.
        case link(family: UInt8)
        /// `struct inet_diag_req_v2`: address family, IP protocol and the mask of socket states to
        /// dump; no extensions and an all-zero socket id, which matches every socket.
        case socketDiag(family: UInt8, protocol: UInt8, states: UInt32)
    }

    var type: UInt16
    var flags: UInt16
    var header: FamilyHeader
    var attributes: [NetlinkAttribute]
}

/// An attribute to send. Integers are written in host order, as libmnl's `mnl_attr_put_u*` do;
/// attributes the kernel reads as big-endian (ports, zones) use `bigEndian16`.
indirect enum NetlinkAttribute: Equatable, Sendable {
    case u8(UInt16, UInt8)
    case u16(UInt16, UInt16)
    case u32(UInt16, UInt32)
    case bytes(UInt16, [UInt8])
    case nested(UInt16, [NetlinkAttribute])

    static func bigEndian16(_ type: UInt16, _ value: UInt16) -> NetlinkAttribute {
        .u16(type, value.bigEndian)
    }
}
