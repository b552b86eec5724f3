internal import CMnl

// libmnl's message half: requests are laid out by `mnl_nlmsg_put_*` and `mnl_attr_put*`, replies
// are walked by `mnl_cb_run` and split by `mnl_attr_parse*`. With `MnlSocket.swift` this is the
// only Swift that calls libmnl; what goes in and comes out are the Swift values of
// `NetlinkRequest.swift` and `NetlinkReply.swift`.

extension NetlinkRequest {
    /// Requests here are a few attributes long; this is room for them with a margin, and the
    /// `_check` putters turn anything larger into EMSGSIZE instead of an overrun.
    static let bufferSize = 1024

    /// The request's bytes, numbered `sequence`, as `mnl_socket_sendto` sends them.
    func encoded(sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        let length = buffer.withUnsafeMutableBytes { raw -> Int? in
            let message = mnl_nlmsg_put_header(raw.baseAddress)!
            message.pointee.nlmsg_type = type
            message.pointee.nlmsg_flags = flags
            message.pointee.nlmsg_seq = sequence
            switch header {
            case .netfilter(let family): cni_mnl_put_nfgenmsg(message, family)
            case .batch(let subsystem): cni_mnl_put_batch_nfgenmsg(message, subsystem)
            case .route(let family, let destinationLength, let flags): cni_mnl_put_rtmsg(message, family, destinationLength, flags)
            case .address(let family): cni_mnl_put_ifaddrmsg(message, family)
            case .link(let family): cni_mnl_put_ifinfomsg(message, family)
            case .socketDiag(let family, let `protocol`, let states): cni_mnl_put_inet_diag_req(message, family, `protocol`, states)
            }
            guard Self.put(attributes, into: message, capacity: raw.count) else { return nil }
            return Int(message.pointee.nlmsg_len)
        }
        guard let length else { throw NetlinkError(operation: "build netlink message type \(type)", errno: EMSGSIZE) }
        return Array(buffer.prefix(length))
    }

    /// Appends `attributes` in order, nesting with `mnl_attr_nest_start`/`end`; false when the
    /// buffer is too small.
    private static func put(_ attributes: [NetlinkAttribute], into message: UnsafeMutablePointer<nlmsghdr>, capacity: Int) -> Bool {
        for attribute in attributes {
            let fitted: Bool
            switch attribute {
            case .u8(let type, let value):
                fitted = mnl_attr_put_u8_check(message, capacity, type, value)
            case .u16(let type, let value):
                fitted = mnl_attr_put_u16_check(message, capacity, type, value)
            case .u32(let type, let value):
                fitted = mnl_attr_put_u32_check(message, capacity, type, value)
            case .bytes(let type, let data):
                fitted = data.withUnsafeBytes { mnl_attr_put_check(message, capacity, type, $0.count, $0.baseAddress) }
            case .nested(let type, let children):
                guard let start = mnl_attr_nest_start_check(message, capacity, type),
                    put(children, into: message, capacity: capacity)
                else { return false }
                mnl_attr_nest_end(message, start)
                fitted = true
            }
            guard fitted else { return false }
        }
        return true
    }
}

extension DatagramWalk {
    /// Walks one datagram with `cni_mnl_cb_run` (libmnl's `mnl_cb_run2`), which checks every
    /// message's sequence number and port ID against the request (0 skips the check), turns
    /// NLMSG_ERROR, and an NLMSG_DONE that ends a failed dump, into its errno and stops at
    /// NLMSG_DONE or an ACK. Data messages are copied out; one without NLM_F_MULTI is a whole
    /// reply by itself, so the walk stops after it (a route lookup's answer has no NLMSG_DONE).
    init(_ datagram: [UInt8], sequence: UInt32, portID: UInt32) {
        var messages: [ReplyMessage] = []
        let (status, code) = datagram.withUnsafeBytes { bytes in
            withUnsafeMutablePointer(to: &messages) { context in
                let status = cni_mnl_cb_run(
                    bytes.baseAddress, bytes.count, sequence, portID,
                    { header, context in
                        guard let header, let context else { return MNL_CB_ERROR }
                        let message = ReplyMessage(
                            type: header.pointee.nlmsg_type, flags: header.pointee.nlmsg_flags,
                            bytes: Array(UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len))))
                        context.assumingMemoryBound(to: [ReplyMessage].self).pointee.append(message)
                        return message.flags & Kernel.Flags.multipart == 0 ? MNL_CB_STOP : MNL_CB_OK
                    }, context)
                return (status, cni_mnl_errno())
            }
        }
        switch status {
        case MNL_CB_OK: self.init(messages: messages, outcome: .more)
        case MNL_CB_STOP: self.init(messages: messages, outcome: .finished)
        default: self.init(messages: messages, outcome: .failed(errno: code))
        }
    }
}

extension DatagramWalk {
    /// Whether `datagram` holds the end of the dump numbered `sequence`: its NLMSG_DONE, or an
    /// NLMSG_ERROR that ends it.
    static func endsDump(_ datagram: [UInt8], sequence: UInt32) -> Bool {
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(datagram[offset]) | Int(datagram[offset + 1]) << 8 | Int(datagram[offset + 2]) << 16 | Int(datagram[offset + 3]) << 24
            let type = UInt16(datagram[offset + 4]) | UInt16(datagram[offset + 5]) << 8
            let number = (8..<12).reduce(UInt32(0)) { $0 | UInt32(datagram[offset + $1]) << (8 * UInt32($1 - 8)) }
            if number == sequence && (type == UInt16(NLMSG_DONE) || type == UInt16(NLMSG_ERROR)) { return true }
            guard length >= 16 else { return true }
            offset += (length + 3) & ~3
        }
        return false
    }
}

extension ReplyMessage {
    /// The attributes after the `headerSize`-byte family header, split by `mnl_attr_parse`.
    func attributes(afterHeader headerSize: Int) -> [ReplyAttribute] {
        withHeader { header in
            ReplyAttribute.collect { collector, context in mnl_attr_parse(header, UInt32(headerSize), collector, context) }
        }
    }

    /// `rtm_type` of a route message; nil when the message is too short for its `rtmsg`.
    var routeType: UInt8? { UInt8(exactly: withHeader(cni_mnl_get_rtm_type)) }

    /// `ifa_family` of an address message; nil when the message is too short for its `ifaddrmsg`.
    var addressFamily: UInt8? { UInt8(exactly: withHeader(cni_mnl_get_ifa_family)) }

    /// The socket a sock_diag message describes; nil when it is too short for its `inet_diag_msg`.
    var diagSocket: SocketDiagHeader? {
        var fields = cni_mnl_inet_diag_socket()
        guard withHeader({ cni_mnl_get_inet_diag_socket($0, &fields) }) else { return nil }
        return SocketDiagHeader(
            family: fields.family, port: fields.port,
            address: withUnsafeBytes(of: fields.address) { Array($0) }, inode: fields.inode)
    }

    private func withHeader<T>(_ body: (UnsafePointer<nlmsghdr>) -> T) -> T {
        bytes.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) }
    }
}

extension ReplyAttribute {
    /// The attribute type, without the NLA_F_NESTED and NLA_F_NET_BYTEORDER flag bits.
    var type: UInt16 { withAttribute { mnl_attr_get_type($0) } }

    var payload: [UInt8] {
        withAttribute { Array(UnsafeRawBufferPointer(start: mnl_attr_get_payload($0), count: Int(mnl_attr_get_payload_len($0)))) }
    }

    /// The payload as an integer in host order, or nil when it is too short for one.
    var u8: UInt8? { withAttribute { mnl_attr_validate($0, MNL_TYPE_U8) == 0 ? mnl_attr_get_u8($0) : nil } }
    var u16: UInt16? { withAttribute { mnl_attr_validate($0, MNL_TYPE_U16) == 0 ? mnl_attr_get_u16($0) : nil } }
    var u32: UInt32? { withAttribute { mnl_attr_validate($0, MNL_TYPE_U32) == 0 ? mnl_attr_get_u32($0) : nil } }
    /// The payload as a NUL-terminated string, or nil when it is not one.
    var string: String? {
        withAttribute { mnl_attr_validate($0, MNL_TYPE_NUL_STRING) == 0 ? String(cString: mnl_attr_get_str($0)) : nil }
    }

    /// The attributes nested in this one, split by `mnl_attr_parse_nested`.
    var nested: [ReplyAttribute] {
        withAttribute { attribute in
            Self.collect { collector, context in mnl_attr_parse_nested(attribute, collector, context) }
        }
    }

    private func withAttribute<T>(_ body: (UnsafePointer<nlattr>) -> T) -> T {
        bytes.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: nlattr.self)) }
    }

    /// Runs one of libmnl's attribute parsers with a callback that copies every attribute out.
    fileprivate static func collect(_ parse: (mnl_attr_cb_t, UnsafeMutableRawPointer) -> Int32) -> [ReplyAttribute] {
        var attributes: [ReplyAttribute] = []
        _ = withUnsafeMutablePointer(to: &attributes) { context in
            parse(
                { attribute, context in
                    guard let attribute, let context else { return MNL_CB_ERROR }
                    let bytes = Array(UnsafeRawBufferPointer(start: attribute, count: Int(mnl_attr_get_len(attribute))))
                    context.assumingMemoryBound(to: [ReplyAttribute].self).pointee.append(ReplyAttribute(bytes: bytes))
                    return MNL_CB_OK
                }, context)
        }
        return attributes
    }
}

/// Whole messages built outside this module (nf_tables messages, by libnftnl in NFTablesBackend),
/// which the socket numbers as its own.
enum PrebuiltMessage {
    /// `bytes` numbered `sequence`, with `addingFlags` set too; nil unless `bytes` is exactly one
    /// whole netlink message (`mnl_nlmsg_ok`, and no bytes after it).
    static func renumbered(_ bytes: [UInt8], sequence: UInt32, addingFlags: UInt16) -> [UInt8]? {
        var message = bytes
        let whole = message.withUnsafeMutableBytes { raw -> Bool in
            guard raw.count >= MemoryLayout<nlmsghdr>.size else { return false }
            let header = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)
            guard mnl_nlmsg_ok(header, Int32(clamping: raw.count)), Int(header.pointee.nlmsg_len) == raw.count else { return false }
            header.pointee.nlmsg_seq = sequence
            header.pointee.nlmsg_flags |= addingFlags
            return true
        }
        return whole ? message : nil
    }
}

extension BatchReplyWalk {
    /// Walks one datagram of replies to a batch with `cni_mnl_cb_run_statuses` (libmnl's
    /// `mnl_cb_run2`, port ID checked), collecting each NLMSG_ERROR's sequence number and status.
    init(_ datagram: [UInt8], portID: UInt32) {
        var statuses: [(sequence: UInt32, errno: Int32)] = []
        let (result, code) = datagram.withUnsafeBytes { bytes in
            withUnsafeMutablePointer(to: &statuses) { context in
                let result = cni_mnl_cb_run_statuses(
                    bytes.baseAddress, bytes.count, portID,
                    { header, context in
                        var status: Int32 = 0
                        guard let header, let context, cni_mnl_get_error_status(header, &status) else { return MNL_CB_ERROR }
                        context.assumingMemoryBound(to: [(sequence: UInt32, errno: Int32)].self).pointee
                            .append((header.pointee.nlmsg_seq, -status))
                        return MNL_CB_OK
                    }, context)
                return (result, cni_mnl_errno())
            }
        }
        self.init(statuses: statuses, failure: result == MNL_CB_ERROR ? code : nil)
    }
}
