import IPTablesLayout
import PortmapCore

/// Turns `IPTablesRule`s into kernel rule entries (`struct ipt_entry` / `struct ip6t_entry` with
/// their matches and target) and back.
///
/// The bytes are exactly those iptables-legacy 1.8.9 builds for the same command line (golden
/// tests hold captures of it), so the Go plugin's `iptables -D`/`-C`, which compare entries byte
/// by byte under a mask, recognize our rules as their own and vice versa.
enum EntryCodec {
    // MARK: - Encoding

    static func encode(_ rule: IPTablesRule, family: IPFamily) throws(RuleEncodingError) -> [UInt8] {
        let layout = family == .ipv4 ? EntryLayout.ipv4 : EntryLayout.ipv6
        var extensions: [UInt8] = []
        for match in rule.matches {
            extensions += try encodeMatch(match, family: family)
        }
        let target = try encodeTarget(rule.target, family: family)
        var header = ByteWriter(size: layout.headerSize)
        var invert: UInt8 = 0
        func address(_ match: Inverted<IPNetwork>?, at offset: Int, maskAt maskOffset: Int, flag: UInt8) throws(RuleEncodingError) {
            guard let match else { return }
            guard match.value.family == family else {
                throw RuleEncodingError(message: "\(match.value) is not an \(family) address")
            }
            header.raw(match.value.network.address.bytes, at: offset)
            header.raw(match.value.mask.bytes, at: maskOffset)
            if match.isInverted { invert |= flag }
        }
        try address(rule.source, at: layout.source, maskAt: layout.sourceMask, flag: EntryLayout.Invert.source)
        try address(rule.destination, at: layout.destination, maskAt: layout.destinationMask, flag: EntryLayout.Invert.destination)
        func interface(_ match: Inverted<String>?, at offset: Int, maskAt maskOffset: Int, flag: UInt8) throws(RuleEncodingError) {
            guard let match else { return }
            // "eth+" matches every name starting with "eth": the '+' is not stored and the mask
            // covers only the prefix; an exact name's mask also covers its terminating NUL.
            let wildcard = match.value.hasSuffix("+")
            let name = Array((wildcard ? String(match.value.dropLast()) : match.value).utf8)
            guard name.count < 16 else { throw RuleEncodingError(message: "interface name \(match.value) is too long") }
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

    /// `struct xt_entry_match/target`: u16 size, char name[29], u8 revision, then the payload.
    private static func extensionBytes(_ payload: XTExtensions.Payload) -> [UInt8] {
        var header = ByteWriter(size: EntryLayout.extensionHeaderSize)
        header.u16(UInt16(EntryLayout.extensionHeaderSize + payload.data.count), at: 0)
        header.string(payload.name, at: 2)
        header.u8(payload.revision, at: 31)
        return header.bytes + payload.data
    }

    private static func encodeMatch(_ match: IPTablesMatch, family: IPFamily) throws(RuleEncodingError) -> [UInt8] {
        extensionBytes(try XTExtensions.match(match, family: family))
    }

    private static func encodeTarget(_ target: IPTablesTarget, family: IPFamily) throws(RuleEncodingError) -> [UInt8] {
        switch target {
        case .jump(let name), .verdict(let name):
            // A standard target named after the chain or verdict; libiptc resolves the name into
            // the jump offset or verdict when it places the entry (XT_ALIGN(sizeof(int)) payload).
            guard name.utf8.count < XTExtensions.nameSize else {
                throw RuleEncodingError(message: "extension or chain name \(name) is too long")
            }
            return extensionBytes(XTExtensions.Payload(name: name, revision: 0, data: [UInt8](repeating: 0, count: 8)))
        default:
            return extensionBytes(try XTExtensions.target(target, family: family)!)
        }
    }

    /// The match and target extensions the kernel must know to take `rule` (a jump or a verdict is
    /// the built-in standard target), read back from its encoding: the names the kernel is asked for.
    static func extensionNames(of rule: IPTablesRule, family: IPFamily) throws(RuleEncodingError) -> (matches: [String], target: String?) {
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
            rule.matches.append(XTExtensions.decodeMatch(name: name, revision: revision, payload))
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

    private static func decodeTarget(
        libiptcName: String, name: String, revision: UInt8, _ payload: ByteReader,
        family: IPFamily
    ) -> IPTablesTarget {
        if name.isEmpty {
            // A standard target: libiptc names it after the verdict or the chain jumped to.
            return ["ACCEPT", "DROP", "QUEUE", "RETURN", ""].contains(libiptcName) ? .verdict(libiptcName) : .jump(libiptcName)
        }
        return XTExtensions.decodeTarget(name: name, revision: revision, payload, family: family)
    }
}
