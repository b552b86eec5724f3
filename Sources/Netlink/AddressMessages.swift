import PortmapCore

/// The rtnetlink address dump as Swift values: the request, and an address read back from its reply.
enum AddressMessages {
    /// RTM_GETADDR with NLM_F_DUMP for AF_UNSPEC: the addresses of every family and interface, as
    /// `ip address` asks for them.
    static let dumpRequest = NetlinkRequest(
        type: Kernel.Address.getMessage, flags: Kernel.Flags.dump,
        header: .address(family: Kernel.everyFamily), attributes: [])

    /// The interface's own address an RTM_NEWADDR gives: IFA_LOCAL where there is one (on a
    /// point-to-point IPv4 link IFA_ADDRESS is the peer's), else IFA_ADDRESS. nil for other
    /// messages, and for families other than IPv4 and IPv6.
    static func address(from message: ReplyMessage) -> IPAddress? {
        guard message.type == Kernel.Address.newMessage, let family = message.addressFamily.flatMap(Kernel.ipFamily) else {
            return nil
        }
        let attributes = message.attributes(afterHeader: Kernel.ifaddrmsgSize)
        let own = attributes.first { $0.type == Kernel.Address.local } ?? attributes.first { $0.type == Kernel.Address.address }
        guard let address = own.flatMap({ IPAddress(bytes: $0.payload) }), address.family == family else { return nil }
        return address
    }
}
