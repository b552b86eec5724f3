import PortmapCore

/// The ctnetlink messages of a UDP flush as Swift values: the dump request, the delete of one
/// entry, and an entry read back from a dump reply.
enum ConntrackMessages {
    /// IPCTNL_MSG_CT_GET with NLM_F_DUMP: every entry of `family` in this network namespace.
    static func dumpRequest(family: IPFamily) -> NetlinkRequest {
        NetlinkRequest(
            type: Kernel.Conntrack.getMessage, flags: Kernel.Flags.dump,
            header: .netfilter(family: Kernel.addressFamily(family)), attributes: [])
    }

    /// IPCTNL_MSG_CT_DELETE of the entry with `entry`'s original tuple (in its zone), acknowledged
    /// so a failure comes back as an errno.
    static func deleteRequest(_ entry: ConntrackEntry) -> NetlinkRequest {
        let tuple = entry.original
        let family = tuple.source.family
        let (sourceType, destinationType) =
            family == .ipv4
            ? (Kernel.Conntrack.ipv4Source, Kernel.Conntrack.ipv4Destination)
            : (Kernel.Conntrack.ipv6Source, Kernel.Conntrack.ipv6Destination)
        var attributes: [NetlinkAttribute] = [
            .nested(
                Kernel.Conntrack.tupleOriginal,
                [
                    .nested(
                        Kernel.Conntrack.tupleIP,
                        [
                            .bytes(sourceType, tuple.source.bytes),
                            .bytes(destinationType, tuple.destination.bytes),
                        ]),
                    .nested(
                        Kernel.Conntrack.tupleProtocol,
                        [
                            .u8(Kernel.Conntrack.protocolNumber, tuple.protocolNumber),
                            .bigEndian16(Kernel.Conntrack.sourcePort, tuple.sourcePort),
                            .bigEndian16(Kernel.Conntrack.destinationPort, tuple.destinationPort),
                        ]),
                ])
        ]
        if let zone = entry.zone { attributes.append(.bigEndian16(Kernel.Conntrack.zone, zone)) }
        return NetlinkRequest(
            type: Kernel.Conntrack.deleteMessage, flags: Kernel.Flags.requestWithAck,
            header: .netfilter(family: Kernel.addressFamily(family)), attributes: attributes)
    }

    /// The entry a dump reply message describes; nil for other messages and for tuples without
    /// ports (ICMP and the like), which a port flush never deletes.
    static func entry(from message: ReplyMessage) -> ConntrackEntry? {
        guard message.type == Kernel.Conntrack.newMessage else { return nil }
        let attributes = message.attributes(afterHeader: Kernel.nfgenmsgSize)
        guard let original = attributes.first(where: { $0.type == Kernel.Conntrack.tupleOriginal }).flatMap(tuple) else {
            return nil
        }
        let zone = attributes.first { $0.type == Kernel.Conntrack.zone }?.u16.map(UInt16.init(bigEndian:))
        return ConntrackEntry(original: original, zone: zone)
    }

    /// CTA_TUPLE_ORIG's addresses (CTA_TUPLE_IP) and protocol and ports (CTA_TUPLE_PROTO); the
    /// ports are big-endian on the wire.
    private static func tuple(_ attribute: ReplyAttribute) -> ConntrackTuple? {
        var source: IPAddress?
        var destination: IPAddress?
        var protocolNumber: UInt8?
        var sourcePort: UInt16?
        var destinationPort: UInt16?
        for part in attribute.nested {
            switch part.type {
            case Kernel.Conntrack.tupleIP:
                for address in part.nested {
                    switch address.type {
                    case Kernel.Conntrack.ipv4Source, Kernel.Conntrack.ipv6Source: source = IPAddress(bytes: address.payload)
                    case Kernel.Conntrack.ipv4Destination, Kernel.Conntrack.ipv6Destination: destination = IPAddress(bytes: address.payload)
                    default: break
                    }
                }
            case Kernel.Conntrack.tupleProtocol:
                for field in part.nested {
                    switch field.type {
                    case Kernel.Conntrack.protocolNumber: protocolNumber = field.u8
                    case Kernel.Conntrack.sourcePort: sourcePort = field.u16.map(UInt16.init(bigEndian:))
                    case Kernel.Conntrack.destinationPort: destinationPort = field.u16.map(UInt16.init(bigEndian:))
                    default: break
                    }
                }
            default: break
            }
        }
        guard let source, let destination, let protocolNumber, let sourcePort, let destinationPort else { return nil }
        return ConntrackTuple(
            source: source, destination: destination, protocolNumber: protocolNumber,
            sourcePort: sourcePort, destinationPort: destinationPort)
    }
}
