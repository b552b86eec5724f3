#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PortmapCore

/// Asks the kernel which interface it would send an IPv4 packet to the container out of, as
/// `ip route get <address>` does: one RTM_GETROUTE, answered by one RTM_NEWROUTE.
struct RouteLookup {
    let transport: any NetlinkTransport
    let sequence: UInt32

    /// The output interface's index, or nil when no route leads there (ENETUNREACH,
    /// EHOSTUNREACH) or the answer names no interface.
    func outputInterface(toward destination: IPAddress) throws(NetlinkError) -> UInt32? {
        let replies: [ReplyMessage]
        do {
            replies = try transport.exchange(Self.request(toward: destination), sequence: sequence,
                                             operation: "look up the route to \(destination)")
        } catch where error.errno == ENETUNREACH || error.errno == EHOSTUNREACH {
            return nil
        }
        return replies.lazy.compactMap(Self.outputInterface(from:)).first
    }

    /// RTM_GETROUTE for the host route (/32) to `destination`, in the main routing decision.
    static func request(toward destination: IPAddress) -> NetlinkRequest {
        NetlinkRequest(type: Kernel.Route.getMessage, flags: Kernel.Flags.request,
                       header: .route(family: Kernel.addressFamily(destination.family),
                                      destinationLength: UInt8(destination.family.addressBits)),
                       attributes: [.bytes(Kernel.Route.destination, destination.bytes)])
    }

    /// RTA_OIF of an RTM_NEWROUTE answer.
    static func outputInterface(from message: ReplyMessage) -> UInt32? {
        guard message.type == Kernel.Route.newMessage else { return nil }
        return message.attributes(afterHeader: Kernel.rtmsgSize).first { $0.type == Kernel.Route.outputInterface }?.u32
    }
}
