import PortmapCore

/// The original-direction tuple of a conntrack entry: what the first packet looked like. It is both
/// what the flush matches on and what names the entry to the kernel's delete.
struct ConntrackTuple: Hashable, Sendable {
    var source: IPAddress
    var destination: IPAddress
    var protocolNumber: UInt8
    var sourcePort: UInt16
    var destinationPort: UInt16
}

/// A conntrack entry as the dump reports it, reduced to what deleting it needs.
struct ConntrackEntry: Hashable, Sendable {
    var original: ConntrackTuple
    /// CTA_ZONE, present only outside the default zone 0; the delete must name the same zone.
    var zone: UInt16?

    /// UDP to one of `destinations`: the port matches, and so does the address when the
    /// destination has one (a hostIP-bound mapping). These are the entries that would keep
    /// sending a port's datagrams to where it pointed before its DNAT rule existed.
    func isUDP(toAnyOf destinations: [ConntrackDestination]) -> Bool {
        original.protocolNumber == Kernel.udp
            && destinations.contains { destination in
                destination.port == original.destinationPort
                    && (destination.address.map { $0 == original.destination } ?? true)
            }
    }
}
