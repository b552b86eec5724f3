import PortmapCore

/// The xtables match and target extensions of the layout as the kernel takes them: a name, a
/// revision and the extension's struct, padded to 8 bytes (XT_ALIGN). Both stores carry these
/// bytes: the legacy one inside `struct xt_entry_match/target`, the iptables-nft one as the
/// `info` of an nf_tables `match`/`target` expression (iptables-nft 1.8.9 sends the same struct).
package enum XTExtensions {
    package struct Payload: Equatable, Sendable {
        package var name: String
        package var revision: UInt8
        /// The struct, padded to a multiple of 8 bytes.
        package var data: [UInt8]

        package init(name: String, revision: UInt8, data: [UInt8]) {
            self.name = name
            self.revision = revision
            self.data = data
        }
    }

    /// Extension names are at most 28 bytes (the kernel's field is 29 with the NUL).
    package static let nameSize = 29

    /// Payloads are padded to 8 bytes (XT_ALIGN: the alignment of u64).
    package static func aligned(_ size: Int) -> Int { (size + 7) & ~7 }

    // MARK: - Encoding

    package static func match(_ match: IPTablesMatch, family: IPFamily) throws(RuleEncodingError) -> Payload {
        switch match {
        case .destinationTypeLocal:
            // struct xt_addrtype_info_v1 { u16 source; u16 dest; u32 flags; }, dest = XT_ADDRTYPE_LOCAL
            var payload = ByteWriter(size: 8)
            payload.u16(Constants.addressTypeLocal, at: 2)
            return try make("addrtype", 1, payload)
        case .comment(let text):
            // struct xt_comment_info { char comment[256]; }
            guard text.utf8.count < 256 else { throw RuleEncodingError(message: "comment longer than 255 bytes") }
            var payload = ByteWriter(size: 256)
            payload.string(text, at: 0)
            return try make("comment", 0, payload)
        case .multiportDestination(let ports):
            // struct xt_multiport_v1 { u8 flags; u8 count; u16 ports[15]; u8 pflags[15]; u8 invert; }
            guard (1...15).contains(ports.count) else { throw RuleEncodingError(message: "multiport takes 1 to 15 ports") }
            var payload = ByteWriter(size: 48)
            payload.u8(Constants.multiportDestination, at: 0)
            payload.u8(UInt8(ports.count), at: 1)
            for (index, port) in ports.enumerated() { payload.u16(port, at: 2 + 2 * index) }
            return try make("multiport", 1, payload)
        case .destinationPort(let transport, let port):
            return try make(transport.rawValue, 0, portPayload(transport, port))
        case .mark(let value, let mask):
            // struct xt_mark_mtinfo1 { u32 mark, mask; u8 invert; }
            var payload = ByteWriter(size: 12)
            payload.u32(value, at: 0)
            payload.u32(mask, at: 4)
            return try make("mark", 1, payload)
        case .other(let name, let revision, let data):
            var payload = ByteWriter(size: data.count)
            payload.raw(data, at: 0)
            return try make(name, revision, payload)
        }
    }

    /// The target extension of `target`; nil for a jump or a verdict, which are no extension (the
    /// legacy store writes the standard target, the iptables-nft one an immediate verdict).
    package static func target(_ target: IPTablesTarget, family: IPFamily) throws(RuleEncodingError) -> Payload? {
        switch target {
        case .jump, .verdict:
            return nil
        case .dnat(let address, let port):
            // struct nf_nat_range2 { u32 flags; nf_inet_addr min_addr, max_addr;
            //   be16 min_proto, max_proto, base_proto; } (padded to 48)
            guard address.family == family else { throw RuleEncodingError(message: "DNAT to \(address) in the \(family) table") }
            var payload = ByteWriter(size: 44)
            payload.u32(Constants.natMapIPs | Constants.natProtoSpecified, at: 0)
            payload.raw(address.bytes, at: 4)
            payload.raw(address.bytes, at: 20)
            payload.u16BigEndian(port, at: 36)
            payload.u16BigEndian(port, at: 38)
            return try make("DNAT", 2, payload)
        case .setMark(let value, let mask):
            // struct xt_mark_tginfo2 { u32 mark, mask; }
            var payload = ByteWriter(size: 8)
            payload.u32(value, at: 0)
            payload.u32(mask, at: 4)
            return try make("MARK", 2, payload)
        case .masquerade:
            // IPv4: struct nf_nat_ipv4_multi_range_compat with rangesize 1 and an empty range;
            // IPv6: an empty struct nf_nat_range.
            var payload = ByteWriter(size: family == .ipv4 ? 24 : 40)
            if family == .ipv4 { payload.u32(1, at: 0) }
            return try make("MASQUERADE", 0, payload)
        case .other(let name, let revision, let data):
            var payload = ByteWriter(size: data.count)
            payload.raw(data, at: 0)
            return try make(name, revision, payload)
        }
    }

    private static func make(_ name: String, _ revision: UInt8, _ payload: ByteWriter) throws(RuleEncodingError) -> Payload {
        guard name.utf8.count < nameSize else { throw RuleEncodingError(message: "extension or chain name \(name) is too long") }
        let padding = [UInt8](repeating: 0, count: aligned(payload.bytes.count) - payload.bytes.count)
        return Payload(name: name, revision: revision, data: payload.bytes + padding)
    }

    /// The tcp/udp/sctp match for one destination port, as iptables' `-p X --dport N` builds it.
    private static func portPayload(_ transport: TransportProtocol, _ port: UInt16) -> ByteWriter {
        switch transport {
        case .tcp:
            // struct xt_tcp { u16 spts[2]; u16 dpts[2]; u8 option, flg_mask, flg_cmp, invflags; }
            var payload = ByteWriter(size: 12)
            payload.u16(0xFFFF, at: 2)
            payload.u16(port, at: 4)
            payload.u16(port, at: 6)
            return payload
        case .udp:
            // struct xt_udp { u16 spts[2]; u16 dpts[2]; u8 invflags; } (padded to 10)
            var payload = ByteWriter(size: 10)
            payload.u16(0xFFFF, at: 2)
            payload.u16(port, at: 4)
            payload.u16(port, at: 6)
            return payload
        case .sctp:
            // struct xt_sctp_info { u16 dpts[2]; u16 spts[2]; u32 chunkmap[64]; u32 chunk_match_type;
            //   struct { u8 chunktype, flag, flag_mask; } flag_info[4]; int flag_count; u32 flags, invflags; }
            // libxt_sctp leaves spts zero and flag_info[].chunktype 0xff; flags = XT_SCTP_DEST_PORTS.
            var payload = ByteWriter(size: 292)
            payload.u16(port, at: 0)
            payload.u16(port, at: 2)
            for index in 0..<4 { payload.u8(0xFF, at: 268 + 3 * index) }
            payload.u32(Constants.sctpDestinationPorts, at: 284)
            return payload
        }
    }

    // MARK: - Decoding

    /// Only the exact shapes this plugin writes decode to named cases; anything else (other
    /// revisions, inverted or source-port variants) stays `.other`, so it never compares equal to
    /// a planned rule by accident.
    package static func decodeMatch(name: String, revision: UInt8, _ payload: ByteReader) -> IPTablesMatch {
        // Built only when needed: copying every payload (a comment's is 256 bytes) was most of
        // what decoding a chain cost.
        var other: IPTablesMatch { .other(name: name, revision: revision, data: Array(payload.bytes)) }
        switch (name, revision) {
        case ("addrtype", 1) where payload.count >= 8:
            return payload.u16(0) == 0 && payload.u16(2) == Constants.addressTypeLocal && payload.u32(4) == 0
                ? .destinationTypeLocal : other
        case ("comment", 0) where payload.count >= 256:
            return .comment(payload.string(0, maxLength: 256))
        case ("multiport", 1) where payload.count >= 48:
            let count = Int(payload.u8(1))
            guard payload.u8(0) == Constants.multiportDestination, (1...15).contains(count),
                payload.slice(32, 16).allSatisfy({ $0 == 0 })
            else { return other }
            return .multiportDestination((0..<count).map { payload.u16(2 + 2 * $0) })
        case ("tcp", 0) where payload.count >= 12, ("udp", 0) where payload.count >= 9:
            let port = payload.u16(4)
            let shapeless = name == "tcp" ? payload.slice(8, 4).allSatisfy { $0 == 0 } : payload.u8(8) == 0
            guard payload.u16(0) == 0, payload.u16(2) == 0xFFFF, payload.u16(6) == port, shapeless else { return other }
            return .destinationPort(name == "tcp" ? .tcp : .udp, port)
        case ("sctp", 0) where payload.count >= 292:
            let port = payload.u16(0)
            guard payload.u16(2) == port, payload.u32(284) == Constants.sctpDestinationPorts, payload.u32(288) == 0,
                payload.slice(8, 260).allSatisfy({ $0 == 0 })
            else { return other }
            return .destinationPort(.sctp, port)
        case ("mark", 1) where payload.count >= 9:
            return payload.u8(8) == 0 ? .mark(value: payload.u32(0), mask: payload.u32(4)) : other
        default:
            return other
        }
    }

    /// A target extension (not a jump or verdict), as `decodeMatch` decodes matches.
    package static func decodeTarget(name: String, revision: UInt8, _ payload: ByteReader, family: IPFamily) -> IPTablesTarget {
        var other: IPTablesTarget { .other(name: name, revision: revision, data: Array(payload.bytes)) }
        switch (name, revision) {
        case ("DNAT", 2) where payload.count >= 42:
            let size = family == .ipv4 ? 4 : 16
            let low = payload.slice(4, size)
            let high = payload.slice(20, size)
            guard payload.u32(0) == Constants.natMapIPs | Constants.natProtoSpecified,
                low.elementsEqual(high), payload.u16BigEndian(36) == payload.u16BigEndian(38),
                let address = IPAddress(bytes: low)
            else { return other }
            return .dnat(address, port: payload.u16BigEndian(36))
        case ("MARK", 2) where payload.count >= 8:
            return .setMark(value: payload.u32(0), mask: payload.u32(4))
        case ("MASQUERADE", 0):
            let empty =
                family == .ipv4
                ? payload.count >= 24 && payload.u32(0) == 1 && payload.slice(4, 20).allSatisfy { $0 == 0 }
                : payload.count >= 40 && payload.slice(0, 40).allSatisfy { $0 == 0 }
            return empty ? .masquerade : other
        default:
            return other
        }
    }

    /// Constants of the kernel's extension ABI that the codec writes.
    private enum Constants {
        /// XT_ADDRTYPE_LOCAL = 1 << RTN_LOCAL.
        static let addressTypeLocal: UInt16 = 1 << 2
        /// XT_MULTIPORT_DESTINATION.
        static let multiportDestination: UInt8 = 1
        /// XT_SCTP_DEST_PORTS.
        static let sctpDestinationPorts: UInt32 = 0x02
        /// NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PROTO_SPECIFIED.
        static let natMapIPs: UInt32 = 1
        static let natProtoSpecified: UInt32 = 2
    }
}

/// A rule the layout's codecs cannot put into the kernel's form (a comment too long, a DNAT to
/// the other family's address, more ports than multiport takes).
package struct RuleEncodingError: Error, Equatable {
    package let message: String

    package init(message: String) {
        self.message = message
    }
}
