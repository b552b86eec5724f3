import PortmapCore

/// Turns `IPTablesRule`s into kernel rule entries (`struct ipt_entry` / `struct ip6t_entry` with
/// their matches and target) and back.
///
/// The bytes are exactly those iptables-legacy 1.8.9 builds for the same command line (golden
/// tests hold captures of it), so the Go plugin's `iptables -D`/`-C`, which compare entries byte
/// by byte under a mask, recognize our rules as their own and vice versa.
enum EntryCodec {
    struct EncodingError: Error, Equatable {
        let message: String
    }

    // MARK: - Encoding

    static func encode(_ rule: IPTablesRule, family: IPFamily) throws(EncodingError) -> [UInt8] {
        let layout = family == .ipv4 ? EntryLayout.ipv4 : EntryLayout.ipv6
        var extensions: [UInt8] = []
        for match in rule.matches {
            extensions += try encodeMatch(match, family: family)
        }
        let target = try encodeTarget(rule.target, family: family)
        var header = ByteWriter(size: layout.headerSize)
        var invert: UInt8 = 0
        func address(_ match: Inverted<IPNetwork>?, at offset: Int, maskAt maskOffset: Int, flag: UInt8) throws(EncodingError) {
            guard let match else { return }
            guard match.value.family == family else {
                throw EncodingError(message: "\(match.value) is not an \(family) address")
            }
            header.raw(match.value.network.address.bytes, at: offset)
            header.raw(match.value.mask.bytes, at: maskOffset)
            if match.isInverted { invert |= flag }
        }
        try address(rule.source, at: layout.source, maskAt: layout.sourceMask, flag: EntryLayout.Invert.source)
        try address(rule.destination, at: layout.destination, maskAt: layout.destinationMask, flag: EntryLayout.Invert.destination)
        func interface(_ match: Inverted<String>?, at offset: Int, maskAt maskOffset: Int, flag: UInt8) throws(EncodingError) {
            guard let match else { return }
            // "eth+" matches every name starting with "eth": the '+' is not stored and the mask
            // covers only the prefix; an exact name's mask also covers its terminating NUL.
            let wildcard = match.value.hasSuffix("+")
            let name = Array((wildcard ? String(match.value.dropLast()) : match.value).utf8)
            guard name.count < 16 else { throw EncodingError(message: "interface name \(match.value) is too long") }
            header.raw(name, at: offset)
            header.raw([UInt8](repeating: 0xFF, count: wildcard ? name.count : name.count + 1), at: maskOffset)
            if match.isInverted { invert |= flag }
        }
        try interface(rule.inInterface, at: layout.inInterface, maskAt: layout.inInterfaceMask, flag: EntryLayout.Invert.inInterface)
        try interface(rule.outInterface, at: layout.outInterface, maskAt: layout.outInterfaceMask, flag: EntryLayout.Invert.outInterface)
        if let proto = rule.protocolNumber {
            header.u16(proto.value, at: layout.proto)
            if proto.isInverted { invert |= EntryLayout.Invert.proto }
            if let flags = layout.flags { header.u8(EntryLayout.ipv6ProtoFlag, at: flags) }
        }
        header.u8(invert, at: layout.invertFlags)
        let targetOffset = layout.headerSize + extensions.count
        header.u16(UInt16(targetOffset), at: layout.targetOffset)
        header.u16(UInt16(targetOffset + target.count), at: layout.nextOffset)
        return header.bytes + extensions + target
    }

    private static func extensionBytes(name: String, revision: UInt8, payload: ByteWriter) throws(EncodingError) -> [UInt8] {
        guard name.utf8.count < EntryLayout.extensionNameSize else {
            throw EncodingError(message: "extension or chain name \(name) is too long")
        }
        let size = EntryLayout.extensionHeaderSize + EntryLayout.aligned(payload.bytes.count)
        var header = ByteWriter(size: EntryLayout.extensionHeaderSize)
        header.u16(UInt16(size), at: 0)
        header.string(name, at: 2)
        header.u8(revision, at: 31)
        let padding = [UInt8](repeating: 0, count: size - EntryLayout.extensionHeaderSize - payload.bytes.count)
        return header.bytes + payload.bytes + padding
    }

    private static func encodeMatch(_ match: IPTablesMatch, family: IPFamily) throws(EncodingError) -> [UInt8] {
        switch match {
        case .destinationTypeLocal:
            // struct xt_addrtype_info_v1 { u16 source; u16 dest; u32 flags; }, dest = XT_ADDRTYPE_LOCAL
            var payload = ByteWriter(size: 8)
            payload.u16(MatchConstants.addressTypeLocal, at: 2)
            return try extensionBytes(name: "addrtype", revision: 1, payload: payload)
        case .comment(let text):
            // struct xt_comment_info { char comment[256]; }
            guard text.utf8.count < 256 else { throw EncodingError(message: "comment longer than 255 bytes") }
            var payload = ByteWriter(size: 256)
            payload.string(text, at: 0)
            return try extensionBytes(name: "comment", revision: 0, payload: payload)
        case .multiportDestination(let ports):
            // struct xt_multiport_v1 { u8 flags; u8 count; u16 ports[15]; u8 pflags[15]; u8 invert; }
            guard (1...15).contains(ports.count) else { throw EncodingError(message: "multiport takes 1 to 15 ports") }
            var payload = ByteWriter(size: 48)
            payload.u8(MatchConstants.multiportDestination, at: 0)
            payload.u8(UInt8(ports.count), at: 1)
            for (index, port) in ports.enumerated() { payload.u16(port, at: 2 + 2 * index) }
            return try extensionBytes(name: "multiport", revision: 1, payload: payload)
        case .destinationPort(let transport, let port):
            return try extensionBytes(name: transport.rawValue, revision: 0, payload: portPayload(transport, port))
        case .mark(let value, let mask):
            // struct xt_mark_mtinfo1 { u32 mark, mask; u8 invert; }
            var payload = ByteWriter(size: 12)
            payload.u32(value, at: 0)
            payload.u32(mask, at: 4)
            return try extensionBytes(name: "mark", revision: 1, payload: payload)
        case .other(let name, let revision, let data):
            var payload = ByteWriter(size: data.count)
            payload.raw(data, at: 0)
            return try extensionBytes(name: name, revision: revision, payload: payload)
        }
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
            payload.u32(MatchConstants.sctpDestinationPorts, at: 284)
            return payload
        }
    }

    private static func encodeTarget(_ target: IPTablesTarget, family: IPFamily) throws(EncodingError) -> [UInt8] {
        switch target {
        case .jump(let name), .verdict(let name):
            // A standard target named after the chain or verdict; libiptc resolves the name into
            // the jump offset or verdict when it places the entry (XT_ALIGN(sizeof(int)) payload).
            return try extensionBytes(name: name, revision: 0, payload: ByteWriter(size: 8))
        case .dnat(let address, let port):
            // struct nf_nat_range2 { u32 flags; nf_inet_addr min_addr, max_addr;
            //   be16 min_proto, max_proto, base_proto; } (padded to 44)
            guard address.family == family else { throw EncodingError(message: "DNAT to \(address) in the \(family) table") }
            var payload = ByteWriter(size: 44)
            payload.u32(MatchConstants.natMapIPs | MatchConstants.natProtoSpecified, at: 0)
            payload.raw(address.bytes, at: 4)
            payload.raw(address.bytes, at: 20)
            payload.u16BigEndian(port, at: 36)
            payload.u16BigEndian(port, at: 38)
            return try extensionBytes(name: "DNAT", revision: 2, payload: payload)
        case .setMark(let value, let mask):
            // struct xt_mark_tginfo2 { u32 mark, mask; }
            var payload = ByteWriter(size: 8)
            payload.u32(value, at: 0)
            payload.u32(mask, at: 4)
            return try extensionBytes(name: "MARK", revision: 2, payload: payload)
        case .masquerade:
            // IPv4: struct nf_nat_ipv4_multi_range_compat with rangesize 1 and an empty range;
            // IPv6: an empty struct nf_nat_range.
            var payload = ByteWriter(size: family == .ipv4 ? 24 : 40)
            if family == .ipv4 { payload.u32(1, at: 0) }
            return try extensionBytes(name: "MASQUERADE", revision: 0, payload: payload)
        case .other(let name, let revision, let data):
            var payload = ByteWriter(size: data.count)
            payload.raw(data, at: 0)
            return try extensionBytes(name: name, revision: revision, payload: payload)
        }
    }

    /// The match and target extensions the kernel must know to take `rule` (a jump or a verdict is
    /// the built-in standard target), read back from its encoding: the names the kernel is asked for.
    static func extensionNames(of rule: IPTablesRule, family: IPFamily) throws(EncodingError) -> (matches: [String], target: String?) {
        let layout = family == .ipv4 ? EntryLayout.ipv4 : EntryLayout.ipv6
        let entry = try encode(rule, family: family)
        let reader = ByteReader(entry[...])
        let targetOffset = Int(reader.u16(layout.targetOffset))
        var names: [String] = []
        var offset = layout.headerSize
        while let (name, _, payload) = extensionAt(reader, offset, limit: targetOffset) {
            names.append(name)
            offset += EntryLayout.extensionHeaderSize + payload.count
        }
        switch rule.target {
        case .jump, .verdict: return (names, nil)
        default: return (names, reader.string(targetOffset + 2, maxLength: EntryLayout.extensionNameSize))
        }
    }

    // MARK: - Decoding

    /// Decodes one entry as read from libiptc. `targetName` is libiptc's name for the target
    /// (a chain, a verdict or an extension), because a jump's payload holds an internal offset.
    static func decode(_ entry: ArraySlice<UInt8>, targetName: String, family: IPFamily) -> IPTablesRule? {
        let layout = family == .ipv4 ? EntryLayout.ipv4 : EntryLayout.ipv6
        guard entry.count >= layout.headerSize else { return nil }
        let reader = ByteReader(entry)
        let invert = reader.u8(layout.invertFlags)
        func address(_ offset: Int, _ maskOffset: Int, _ flag: UInt8) -> Inverted<IPNetwork>? {
            guard let mask = IPAddress(bytes: reader.slice(maskOffset, layout.addressSize)),
                let value = IPAddress(bytes: reader.slice(offset, layout.addressSize))
            else { return nil }
            let inverted = invert & flag != 0
            guard !mask.isUnspecified || inverted else { return nil }
            guard let network = IPNetwork(address: value, mask: mask) else { return nil }
            return Inverted(network, inverted)
        }
        func interface(_ offset: Int, _ maskOffset: Int, _ flag: UInt8) -> Inverted<String>? {
            let name = reader.string(offset, maxLength: 16)
            guard !name.isEmpty else { return nil }
            let maskLength = reader.slice(maskOffset, 16).prefix { $0 == 0xFF }.count
            let wildcard = maskLength == name.utf8.count
            return Inverted(wildcard ? name + "+" : name, invert & flag != 0)
        }
        var rule = IPTablesRule(target: .verdict(targetName))
        rule.source = address(layout.source, layout.sourceMask, EntryLayout.Invert.source)
        rule.destination = address(layout.destination, layout.destinationMask, EntryLayout.Invert.destination)
        rule.inInterface = interface(layout.inInterface, layout.inInterfaceMask, EntryLayout.Invert.inInterface)
        rule.outInterface = interface(layout.outInterface, layout.outInterfaceMask, EntryLayout.Invert.outInterface)
        let proto = reader.u16(layout.proto)
        let protoInverted = invert & EntryLayout.Invert.proto != 0
        if proto != 0 || protoInverted { rule.protocolNumber = Inverted(proto, protoInverted) }

        let targetOffset = Int(reader.u16(layout.targetOffset))
        let nextOffset = Int(reader.u16(layout.nextOffset))
        guard targetOffset >= layout.headerSize, targetOffset + EntryLayout.extensionHeaderSize <= min(nextOffset, entry.count) else {
            return nil
        }
        var offset = layout.headerSize
        while offset < targetOffset {
            guard let (name, revision, payload) = extensionAt(reader, offset, limit: targetOffset) else { return nil }
            rule.matches.append(decodeMatch(name: name, revision: revision, payload))
            offset += EntryLayout.extensionHeaderSize + payload.count
        }
        guard let (name, revision, payload) = extensionAt(reader, targetOffset, limit: min(nextOffset, entry.count)) else {
            return nil
        }
        rule.target = decodeTarget(libiptcName: targetName, name: name, revision: revision, payload, family: family)
        return rule
    }

    private static func extensionAt(_ reader: ByteReader, _ offset: Int, limit: Int) -> (String, UInt8, ByteReader)? {
        guard offset + EntryLayout.extensionHeaderSize <= limit else { return nil }
        let size = Int(reader.u16(offset))
        guard size >= EntryLayout.extensionHeaderSize, offset + size <= limit else { return nil }
        let name = reader.string(offset + 2, maxLength: EntryLayout.extensionNameSize)
        let payload = ByteReader(reader.slice(offset + EntryLayout.extensionHeaderSize, size - EntryLayout.extensionHeaderSize))
        return (name, reader.u8(offset + 31), payload)
    }

    /// Only the exact shapes this plugin writes decode to named cases; anything else (other
    /// revisions, inverted or source-port variants) stays `.other`, so it never compares equal to
    /// a planned rule by accident.
    private static func decodeMatch(name: String, revision: UInt8, _ payload: ByteReader) -> IPTablesMatch {
        // Built only when needed: copying every payload (a comment's is 256 bytes) was most of
        // what decoding a chain cost.
        var other: IPTablesMatch { .other(name: name, revision: revision, data: Array(payload.bytes)) }
        switch (name, revision) {
        case ("addrtype", 1) where payload.count >= 8:
            return payload.u16(0) == 0 && payload.u16(2) == MatchConstants.addressTypeLocal && payload.u32(4) == 0
                ? .destinationTypeLocal : other
        case ("comment", 0) where payload.count >= 256:
            return .comment(payload.string(0, maxLength: 256))
        case ("multiport", 1) where payload.count >= 48:
            let count = Int(payload.u8(1))
            guard payload.u8(0) == MatchConstants.multiportDestination, (1...15).contains(count),
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
            guard payload.u16(2) == port, payload.u32(284) == MatchConstants.sctpDestinationPorts, payload.u32(288) == 0,
                payload.slice(8, 260).allSatisfy({ $0 == 0 })
            else { return other }
            return .destinationPort(.sctp, port)
        case ("mark", 1) where payload.count >= 9:
            return payload.u8(8) == 0 ? .mark(value: payload.u32(0), mask: payload.u32(4)) : other
        default:
            return other
        }
    }

    private static func decodeTarget(
        libiptcName: String, name: String, revision: UInt8, _ payload: ByteReader,
        family: IPFamily
    ) -> IPTablesTarget {
        var other: IPTablesTarget { .other(name: name, revision: revision, data: Array(payload.bytes)) }
        if name.isEmpty {
            // A standard target: libiptc names it after the verdict or the chain jumped to.
            return ["ACCEPT", "DROP", "QUEUE", "RETURN", ""].contains(libiptcName) ? .verdict(libiptcName) : .jump(libiptcName)
        }
        switch (name, revision) {
        case ("DNAT", 2) where payload.count >= 42:
            let size = family == .ipv4 ? 4 : 16
            let low = payload.slice(4, size)
            let high = payload.slice(20, size)
            guard payload.u32(0) == MatchConstants.natMapIPs | MatchConstants.natProtoSpecified,
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
}

/// Constants of the kernel's extension ABI that the codec writes.
enum MatchConstants {
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
