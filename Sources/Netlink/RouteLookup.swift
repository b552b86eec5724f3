import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Asks the kernel how it would send a packet to an address, as `ip route get <address>` does: one
/// RTM_GETROUTE, answered by one RTM_NEWROUTE or an error. Used for the interface behind
/// `route_localnet` and for the route facts of `hostports`.
struct RouteLookup {
    let transport: any NetlinkTransport
    let sequence: UInt32

    /// The output interface's index, or nil when no route leads there (ENETUNREACH,
    /// EHOSTUNREACH) or the answer names no interface.
    func outputInterface(toward destination: IPAddress) throws(NetlinkError) -> UInt32? {
        do {
            return try answer(toward: destination)?.outputInterface
        } catch let error where error.errno == .networkUnreachable || error.errno == .hostUnreachable {
            return nil
        }
    }

    /// The errors a lookup answers for a destination whose packets are dropped, by what drops them
    /// (the kernel's `fib_props` for IPv4, `ip6_rt_type_to_error` for IPv6): ENETUNREACH no route
    /// (or a `throw` route with nothing behind it), EHOSTUNREACH an `unreachable` route, EACCES a
    /// `prohibit` route, EINVAL a `blackhole` route.
    static let droppedErrors: Set<Errno> = [.networkUnreachable, .hostUnreachable, .permissionDenied, .invalidArgument]

    /// What `ip route get` would say: the node's own address, a route out of an interface (named
    /// by `interfaceName`, nil when it went away after the lookup) and its gateway, or no way there.
    func fact(toward destination: IPAddress, interfaceName: (UInt32) -> String?) throws(NetlinkError) -> RouteFact {
        let answer: RouteAnswer?
        do {
            answer = try self.answer(toward: destination, fibMatch: true)
        } catch let error where Self.droppedErrors.contains(error.errno) {
            return RouteFact(kind: .unreachable)
        }
        guard let answer else {
            throw NetlinkError(operation: "look up the route to \(destination): no route in the answer", errno: EBADMSG)
        }
        if Kernel.Route.droppingTypes.contains(answer.type) { return RouteFact(kind: .unreachable) }
        return RouteFact(
            kind: answer.type == Kernel.Route.localType ? .local : .unicast,
            outputInterface: answer.outputInterface.flatMap(interfaceName), gateway: answer.gateway)
    }

    /// The kernel's answer; nil when the reply held no route. Errors come as the kernel gave them.
    /// With `fibMatch`, the routing table entry that matches (`ip route get fibmatch`): the same
    /// type, interface and gateway, at a fraction of the cost on a node of many interfaces.
    func answer(toward destination: IPAddress, fibMatch: Bool = false) throws(NetlinkError) -> RouteAnswer? {
        try transport.exchange(
            Self.request(toward: destination, fibMatch: fibMatch), sequence: sequence,
            operation: "look up the route to \(destination)"
        )
        .lazy.compactMap(Self.answer(from:)).first
    }

    /// RTM_GETROUTE for the host route (/32, /128) to `destination`, in the main routing decision.
    static func request(toward destination: IPAddress, fibMatch: Bool = false) -> NetlinkRequest {
        NetlinkRequest(
            type: Kernel.Route.getMessage, flags: Kernel.Flags.request,
            header: .route(
                family: Kernel.addressFamily(destination.family),
                destinationLength: UInt8(destination.family.addressBits), flags: fibMatch ? Kernel.Route.fibMatch : 0),
            attributes: [.bytes(Kernel.Route.destination, destination.bytes)])
    }

    /// `rtm_type`, RTA_OIF and RTA_GATEWAY of an RTM_NEWROUTE answer.
    static func answer(from message: ReplyMessage) -> RouteAnswer? {
        guard message.type == Kernel.Route.newMessage, let type = message.routeType else { return nil }
        let attributes = message.attributes(afterHeader: Kernel.rtmsgSize)
        return RouteAnswer(
            type: type,
            outputInterface: attributes.first { $0.type == Kernel.Route.outputInterface }?.u32,
            gateway: attributes.first { $0.type == Kernel.Route.gateway }.flatMap { IPAddress(bytes: $0.payload) })
    }
}

/// The parts of a route lookup's answer that are read: the route type (`RTN_*`), the output
/// interface's index and the next hop, when the destination is not on the link itself.
struct RouteAnswer: Equatable {
    var type: UInt8
    var outputInterface: UInt32?
    var gateway: IPAddress?
}
