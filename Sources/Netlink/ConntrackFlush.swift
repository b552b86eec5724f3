import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Deletes the UDP conntrack entries that would keep a host port's datagrams flowing where they
/// went before the port's DNAT rule existed (UDP has no connection end to age them out soon).
///
/// The dump is read to its end before the first delete goes out: a request sent on the socket
/// while the kernel is still dumping on it would be answered in the middle of the dump.
struct ConntrackFlush {
    let transport: any NetlinkTransport
    /// The dump is numbered this; the deletes follow it, one number each.
    let firstSequence: UInt32

    /// Returns how many entries went, counting those that vanished before their delete (ENOENT).
    func run(family: IPFamily, destinations: [ConntrackDestination]) throws(NetlinkError) -> Int {
        let replies = try transport.exchange(
            ConntrackMessages.dumpRequest(family: family), sequence: firstSequence,
            operation: "dump the \(family) conntrack table")
        var seen = Set<ConntrackEntry>()
        let doomed = replies.compactMap(ConntrackMessages.entry).filter { $0.isUDP(toAnyOf: destinations) && seen.insert($0).inserted }
        for (offset, entry) in doomed.enumerated() {
            do {
                _ = try transport.exchange(
                    ConntrackMessages.deleteRequest(entry),
                    sequence: firstSequence &+ 1 &+ UInt32(truncatingIfNeeded: offset),
                    operation: "delete conntrack entry \(Self.describe(entry.original))")
            } catch let error where error.errno == .noSuchFileOrDirectory {
                continue
            }
        }
        return doomed.count
    }

    /// `udp 10.0.0.1:5000 -> 192.0.2.1:53`, as conntrack(8) users read a tuple.
    static func describe(_ tuple: ConntrackTuple) -> String {
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            address.family == .ipv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
        }
        let name = tuple.protocolNumber == Kernel.udp ? "udp" : "protocol \(tuple.protocolNumber)"
        return "\(name) \(endpoint(tuple.source, tuple.sourcePort)) -> \(endpoint(tuple.destination, tuple.destinationPort))"
    }
}
