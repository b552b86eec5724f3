#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMnl
import PortmapCore

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

    /// rtnetlink routes (`linux/rtnetlink.h`), on the NETLINK_ROUTE bus.
    enum Route {
        static let getMessage = UInt16(RTM_GETROUTE)
        static let newMessage = UInt16(RTM_NEWROUTE)
        static let destination = UInt16(RTA_DST.rawValue)
        static let outputInterface = UInt16(RTA_OIF.rawValue)
    }

    enum Flags {
        static let request = cni_mnl_flags_request()
        static let requestWithAck = cni_mnl_flags_request_ack()
        static let dump = cni_mnl_flags_dump()
        /// Set on every message of a multipart (dump) reply, which NLMSG_DONE ends.
        static let multipart = cni_mnl_flag_multi()
    }

    /// Sizes of the family headers that precede the attributes.
    static let nfgenmsgSize = Int(cni_mnl_nfgenmsg_size())
    static let rtmsgSize = Int(cni_mnl_rtmsg_size())

    static let udp = UInt8(IPPROTO_UDP)

    /// LOOPBACK_IFINDEX (include/net/net_namespace.h): `lo` has index 1 in every network namespace.
    static let loopbackInterfaceIndex: UInt32 = 1

    static func addressFamily(_ family: IPFamily) -> UInt8 {
        UInt8(family == .ipv4 ? AF_INET : AF_INET6)
    }
}
