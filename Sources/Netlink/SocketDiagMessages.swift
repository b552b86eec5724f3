import PortmapCore
import Snapshots

/// The sock_diag messages of a listener listing as Swift values: the dump request for one protocol
/// and family, and a socket read back from its reply.
enum SocketDiagMessages {
    /// SOCK_DIAG_BY_FAMILY with NLM_F_DUMP: the sockets of `transport` and `family` that take new
    /// peers on their port. TCP and SCTP: those in LISTEN. UDP: those in CLOSE, which for UDP means
    /// bound and unconnected (`ss -lu` asks for LISTEN too, a state UDP never has). A connected UDP
    /// socket (ESTABLISHED) also has a port, but takes datagrams from its one peer only, so it is
    /// left out, as `ss -lu` leaves it out.
    static func dumpRequest(_ transport: TransportProtocol, family: IPFamily) -> NetlinkRequest {
        let states = transport == .udp ? Kernel.SocketDiag.unconnected : Kernel.SocketDiag.listening
        return NetlinkRequest(
            type: Kernel.SocketDiag.byFamily, flags: Kernel.Flags.dump,
            header: .socketDiag(
                family: Kernel.addressFamily(family), protocol: Kernel.ipProtocol(transport),
                states: states),
            attributes: [])
    }

    /// The socket a dump reply message describes; nil for other messages.
    ///
    /// An AF_INET6 socket accepts IPv4 too when the kernel reports IPV6_V6ONLY off
    /// (INET_DIAG_SKV6ONLY, sent unasked for every AF_INET6 socket in LISTEN or CLOSE: it is past
    /// what the 8-bit `idiag_ext` could ask for). That is the wildcard `::` bound without V6ONLY
    /// (and an IPv4-mapped `::ffff:a.b.c.d`, which takes only IPv4): the kernel turns V6ONLY on by
    /// itself for a socket bound to any other IPv6 address.
    static func listener(from message: ReplyMessage, protocol transport: TransportProtocol) -> ListeningSocket? {
        guard message.type == Kernel.SocketDiag.byFamily, let socket = message.diagSocket,
            let family = Kernel.ipFamily(socket.family),
            let address = IPAddress(bytes: socket.address.prefix(family == .ipv4 ? 4 : 16))
        else { return nil }
        let v6Only = message.attributes(afterHeader: Kernel.inetDiagMsgSize).first { $0.type == Kernel.SocketDiag.v6Only }?.u8
        return ListeningSocket(
            protocol: transport, family: family, address: address, port: socket.port,
            acceptsIPv4: family == .ipv6 && v6Only == 0, inode: socket.inode)
    }
}
