import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Lists the sockets that hold a port in the namespace, as `ss -ltuS` does, without the processes:
/// one sock_diag dump per protocol and family, on one socket, each read to its end before the next
/// goes out.
struct ListenerDump {
    let transport: any NetlinkTransport
    /// The first dump is numbered this; the others follow it, one number each.
    let firstSequence: UInt32

    /// The dumps, in the order the listing comes back in.
    static let dumps: [(TransportProtocol, IPFamily)] = [TransportProtocol.tcp, .udp, .sctp].flatMap { transport in
        IPFamily.allCases.map { (transport, $0) }
    }

    /// A kernel without SCTP's diag module ends the SCTP dump with ENOENT (inet_diag has no handler
    /// for the protocol and could not load one), which is taken as no SCTP sockets: most nodes have
    /// no SCTP at all. The same error for TCP or UDP, where the node's ports are, stays an error
    /// rather than an empty listing.
    func run() throws(NetlinkError) -> [ListeningSocket] {
        var listeners: [ListeningSocket] = []
        for (offset, (transport, family)) in Self.dumps.enumerated() {
            let replies: [ReplyMessage]
            do {
                replies = try self.transport.exchange(
                    SocketDiagMessages.dumpRequest(transport, family: family),
                    sequence: firstSequence &+ UInt32(offset),
                    operation: "list the \(transport) \(family) sockets")
            } catch let error where transport == .sctp && error.errno == .noSuchFileOrDirectory {
                continue
            }
            listeners += replies.compactMap { SocketDiagMessages.listener(from: $0, protocol: transport) }
        }
        return listeners
    }
}
