internal import CMnl
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's numbers for the messages this module sends and reads, taken from the headers
/// through `CMnl` rather than copied by hand, under names that say what they are.
///
/// Reading constants is all this file does with the C module; the calls into libmnl are in
/// `MnlSocket` and `MnlMessages`.
enum Kernel {
    /// ctnetlink (`linux/netfilter/nfnetlink_conntrack.h`), on the NETLINK_NETFILTER bus.
    enum Conntrack {
        static let getMessage = cni_mnl_ct_type(UInt8(IPCTNL_MSG_CT_GET.rawValue))
        static let deleteMessage = cni_mnl_ct_type(UInt8(IPCTNL_MSG_CT_DELETE.rawValue))
        /// The type of each entry in a dump reply.
        static let newMessage = cni_mnl_ct_type(UInt8(IPCTNL_MSG_CT_NEW.rawValue))

        static let tupleOriginal = UInt16(CTA_TUPLE_ORIG.rawValue)
        static let zone = UInt16(CTA_ZONE.rawValue)
        static let tupleIP = UInt16(CTA_TUPLE_IP.rawValue)
        static let tupleProtocol = UInt16(CTA_TUPLE_PROTO.rawValue)
        static let ipv4Source = UInt16(CTA_IP_V4_SRC.rawValue)
        static let ipv4Destination = UInt16(CTA_IP_V4_DST.rawValue)
        static let ipv6Source = UInt16(CTA_IP_V6_SRC.rawValue)
        static let ipv6Destination = UInt16(CTA_IP_V6_DST.rawValue)
        static let protocolNumber = UInt16(CTA_PROTO_NUM.rawValue)
        static let sourcePort = UInt16(CTA_PROTO_SRC_PORT.rawValue)
        static let destinationPort = UInt16(CTA_PROTO_DST_PORT.rawValue)
    }

    /// nfnetlink batches (`linux/netfilter/nfnetlink.h`): the transactions of nf_tables, whose
    /// messages come built (by libnftnl in NFTablesBackend) and are only framed and answered here.
    enum Batch {
        static let begin = cni_mnl_batch_begin_type()
        static let end = cni_mnl_batch_end_type()
        /// u32, big-endian, in the begin message: the ruleset generation the batch was made
        /// against; the kernel refuses the batch with ERESTART once another one has committed.
        static let generation = UInt16(NFNL_BATCH_GENID.rawValue)
        static let nftables = UInt16(NFNL_SUBSYS_NFTABLES)
    }

    /// rtnetlink routes (`linux/rtnetlink.h`), on the NETLINK_ROUTE bus.
    enum Route {
        static let getMessage = UInt16(RTM_GETROUTE)
        static let newMessage = UInt16(RTM_NEWROUTE)
        static let destination = UInt16(RTA_DST.rawValue)
        static let outputInterface = UInt16(RTA_OIF.rawValue)
        static let gateway = UInt16(RTA_GATEWAY.rawValue)
        /// Answer with the FIB entry that matches, not the route cache entry the lookup builds:
        /// no source address is chosen (for IPv6 that walks every interface's addresses).
        static let fibMatch = UInt32(RTM_F_FIB_MATCH)

        /// `rtm_type`s: the node's own address, and the routes that drop what they match.
        static let localType = UInt8(RTN_LOCAL)
        static let droppingTypes: Set<UInt8> = [UInt8(RTN_UNREACHABLE), UInt8(RTN_BLACKHOLE), UInt8(RTN_PROHIBIT)]
    }

    /// rtnetlink addresses (`linux/if_addr.h`), on the NETLINK_ROUTE bus.
    enum Address {
        static let getMessage = UInt16(RTM_GETADDR)
        static let newMessage = UInt16(RTM_NEWADDR)
        /// The prefix address; on a point-to-point link, the peer's.
        static let address = UInt16(IFA_ADDRESS)
        /// The interface's own address, when it differs from IFA_ADDRESS (point-to-point links).
        static let local = UInt16(IFA_LOCAL)
    }

    /// rtnetlink links of the bridge family (`linux/if_link.h`): what `bridge link` lists.
    enum BridgeLink {
        static let getMessage = UInt16(RTM_GETLINK)
        static let newMessage = UInt16(RTM_NEWLINK)
        static let family = UInt8(AF_BRIDGE)
        static let name = UInt16(IFLA_IFNAME)
        /// u32: the index of the bridge the port belongs to.
        static let master = UInt16(IFLA_MASTER)
        /// Nested: the port's bridge options, sent for ports only.
        static let portOptions = UInt16(IFLA_PROTINFO)
        /// u8 in `portOptions`: hairpin_mode.
        static let hairpin = UInt16(IFLA_BRPORT_MODE)
    }

    /// sock_diag (`linux/sock_diag.h`, `linux/inet_diag.h`), on the NETLINK_SOCK_DIAG bus.
    enum SocketDiag {
        /// Both the dump request and each socket of its reply.
        static let byFamily = UInt16(SOCK_DIAG_BY_FAMILY)
        /// u8, 1 when IPV6_V6ONLY is set; sent for every AF_INET6 socket in LISTEN or CLOSE state.
        static let v6Only = UInt16(INET_DIAG_SKV6ONLY)
        /// `idiag_states` bits (socket states, `netinet/tcp.h`): a listening TCP or SCTP socket, and
        /// an unconnected UDP one.
        static let listening = UInt32(1) << UInt32(TCP_LISTEN)
        static let unconnected = UInt32(1) << UInt32(TCP_CLOSE)
    }

    enum Flags {
        static let request = cni_mnl_flags_request()
        static let requestWithAck = cni_mnl_flags_request_ack()
        static let dump = cni_mnl_flags_dump()
        static let acknowledge = cni_mnl_flag_ack()
        /// Set on every message of a multipart (dump) reply, which NLMSG_DONE ends.
        static let multipart = cni_mnl_flag_multi()
    }

    /// Sizes of the family headers that precede the attributes.
    static let nfgenmsgSize = Int(cni_mnl_nfgenmsg_size())
    static let rtmsgSize = Int(cni_mnl_rtmsg_size())
    static let ifaddrmsgSize = Int(cni_mnl_ifaddrmsg_size())
    static let ifinfomsgSize = Int(cni_mnl_ifinfomsg_size())
    static let inetDiagMsgSize = Int(cni_mnl_inet_diag_msg_size())

    static let udp = UInt8(IPPROTO_UDP)

    /// The IP protocol number (`netinet/in.h`) sock_diag is asked about.
    static func ipProtocol(_ transport: TransportProtocol) -> UInt8 {
        switch transport {
        case .tcp: UInt8(IPPROTO_TCP)
        case .udp: udp
        case .sctp: UInt8(IPPROTO_SCTP)
        }
    }

    /// LOOPBACK_IFINDEX (include/net/net_namespace.h): `lo` has index 1 in every network namespace.
    static let loopbackInterfaceIndex: UInt32 = 1

    static func addressFamily(_ family: IPFamily) -> UInt8 {
        UInt8(family == .ipv4 ? AF_INET : AF_INET6)
    }

    /// AF_UNSPEC in a dump request: every family.
    static let everyFamily = UInt8(AF_UNSPEC)

    /// The family of an AF_INET or AF_INET6 header field; nil for any other.
    static func ipFamily(_ addressFamily: UInt8) -> IPFamily? {
        switch Int32(addressFamily) {
        case AF_INET: .ipv4
        case AF_INET6: .ipv6
        default: nil
        }
    }
}
