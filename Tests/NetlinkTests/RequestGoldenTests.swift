import PortmapCore
import Testing

@testable import Netlink

/// The exact bytes of every request, derived by hand from the kernel headers (linux/netlink.h,
/// netfilter/nfnetlink.h, nfnetlink_conntrack.h, rtnetlink.h, if_addr.h, if_link.h, sock_diag.h,
/// inet_diag.h) and checked against the kernel: the same requests, sent in a scratch namespace,
/// dumped the table, deleted entries (or drew ENOENT for absent ones, not EINVAL), found the route,
/// dumped the addresses and listed the sockets (`RecordedNode`). The sock_diag and address dumps
/// are also byte for byte what a C program filling the kernel's own structs sends. Integers are
/// little-endian (x86-64 and arm64 host order) except where a field says big-endian. libmnl marks
/// nests with NLA_F_NESTED (0x8000), which the kernel strips.
struct RequestGoldenTests {
    static let udp = ConntrackTuple(
        source: IPAddress("198.51.100.1")!, destination: IPAddress("192.0.2.1")!,
        protocolNumber: 17, sourcePort: 40001, destinationPort: 5000)
    static let udp6 = ConntrackTuple(
        source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!,
        protocolNumber: 17, sourcePort: 40004, destinationPort: 5000)

    @Test func conntrackDumpIPv4() throws {
        #expect(
            try ConntrackMessages.dumpRequest(family: .ipv4).encoded(sequence: 42)
                == hex(
                    "14000000",  // nlmsg_len 20
                    "0101",  // nlmsg_type NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
                    "0103",  // nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP (0x0301)
                    "2a000000",  // nlmsg_seq 42
                    "00000000",  // nlmsg_pid 0: the kernel
                    "02",  // nfgen_family AF_INET
                    "00",  // version NFNETLINK_V0
                    "0000"  // res_id 0
                ))
    }

    @Test func conntrackDumpIPv6() throws {
        #expect(
            try ConntrackMessages.dumpRequest(family: .ipv6).encoded(sequence: 42)
                == hex(
                    "14000000 0101 0103 2a000000 00000000",  // as for IPv4
                    "0a",  // nfgen_family AF_INET6
                    "00 0000"  // version, res_id
                ))
    }

    @Test func conntrackDeleteIPv4() throws {
        #expect(try ConntrackMessages.deleteRequest(ConntrackEntry(original: Self.udp)).encoded(sequence: 9) == Self.deleteIPv4Prefix)
    }

    /// The IPv4 delete without a zone: header, nfgenmsg and CTA_TUPLE_ORIG.
    static let deleteIPv4Prefix = hex(
        "48000000",  // nlmsg_len 72
        "0201",  // nlmsg_type NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE
        "0500",  // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
        "09000000",  // nlmsg_seq 9
        "00000000",  // nlmsg_pid
        "02 00 0000",  // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0
        "3400 0180",  //   CTA_TUPLE_ORIG, len 52, nested
        "1400 0180",  //     CTA_TUPLE_IP, len 20, nested
        "0800 0100 c6336401",  //      CTA_IP_V4_SRC 198.51.100.1
        "0800 0200 c0000201",  //      CTA_IP_V4_DST 192.0.2.1
        "1c00 0280",  //     CTA_TUPLE_PROTO, len 28, nested
        "0500 0100 11 000000",  //     CTA_PROTO_NUM 17 (udp), 3 bytes padding
        "0600 0200 9c41 0000",  //     CTA_PROTO_SRC_PORT 40001, big-endian, padding
        "0600 0300 1388 0000"  //     CTA_PROTO_DST_PORT 5000, big-endian, padding
    )

    @Test func conntrackDeleteIPv4InAZone() throws {
        var expected = Self.deleteIPv4Prefix
        expected[0] = 0x50  // nlmsg_len 80
        expected += hex("0600 1200 0007 0000")  // CTA_ZONE (18) 7, big-endian, padding
        #expect(try ConntrackMessages.deleteRequest(ConntrackEntry(original: Self.udp, zone: 7)).encoded(sequence: 9) == expected)
    }

    @Test func conntrackDeleteIPv6() throws {
        #expect(try ConntrackMessages.deleteRequest(ConntrackEntry(original: Self.udp6)).encoded(sequence: 9) == Self.deleteIPv6Prefix)
    }

    static let deleteIPv6Prefix = hex(
        "60000000 0201 0500 09000000 00000000",  // nlmsg_len 96, CT_DELETE, REQUEST|ACK, seq 9
        "0a 00 0000",  // nfgenmsg: AF_INET6
        "4c00 0180",  //   CTA_TUPLE_ORIG, len 76, nested
        "2c00 0180",  //     CTA_TUPLE_IP, len 44, nested
        "1400 0300 20010db8000000000000000000000001",  // CTA_IP_V6_SRC 2001:db8::1
        "1400 0400 20010db8000000000000000000000002",  // CTA_IP_V6_DST 2001:db8::2
        "1c00 0280",  //     CTA_TUPLE_PROTO, len 28, nested
        "0500 0100 11 000000",  //       CTA_PROTO_NUM 17
        "0600 0200 9c44 0000",  //       CTA_PROTO_SRC_PORT 40004
        "0600 0300 1388 0000"  //       CTA_PROTO_DST_PORT 5000
    )

    @Test func conntrackDeleteIPv6InAZone() throws {
        var expected = Self.deleteIPv6Prefix
        expected[0] = 0x68  // nlmsg_len 104
        expected += hex("0600 1200 0007 0000")  // CTA_ZONE 7
        #expect(try ConntrackMessages.deleteRequest(ConntrackEntry(original: Self.udp6, zone: 7)).encoded(sequence: 9) == expected)
    }

    @Test func routeLookup() throws {
        #expect(
            try RouteLookup.request(toward: IPAddress("10.0.0.2")!).encoded(sequence: 7)
                == hex(
                    "24000000",  // nlmsg_len 36
                    "1a00",  // nlmsg_type RTM_GETROUTE (26)
                    "0100",  // nlmsg_flags NLM_F_REQUEST: one answer, no dump
                    "07000000",  // nlmsg_seq 7
                    "00000000",  // nlmsg_pid
                    "02",  // rtm_family AF_INET
                    "20",  // rtm_dst_len 32: a host route
                    "00 00",  // rtm_src_len, rtm_tos
                    "00 00 00 00",  // rtm_table, rtm_protocol, rtm_scope, rtm_type
                    "00000000",  // rtm_flags
                    "0800 0100 0a000002"  // RTA_DST 10.0.0.2
                ))
    }

    /// `hostports`' lookups ask for the matching FIB entry (`ip route get fibmatch`): the same
    /// request with RTM_F_FIB_MATCH in rtm_flags, the one intended difference.
    @Test func routeLookupOfTheFIBEntry() throws {
        #expect(
            try RouteLookup.request(toward: IPAddress("10.0.0.2")!, fibMatch: true).encoded(sequence: 7)
                == hex(
                    "24000000 1a00 0100 07000000 00000000",  // nlmsg_len 36, RTM_GETROUTE, NLM_F_REQUEST, seq 7
                    "02 20 00 00 00 00 00 00",  // AF_INET, rtm_dst_len 32, the rest 0
                    "00200000",  // rtm_flags RTM_F_FIB_MATCH (0x2000)
                    "0800 0100 0a000002"  // RTA_DST 10.0.0.2
                ))
    }

    @Test func routeLookupIPv6() throws {
        #expect(
            try RouteLookup.request(toward: IPAddress("2001:db8:2::9")!).encoded(sequence: 7)
                == hex(
                    "30000000 1a00 0100 07000000 00000000",  // nlmsg_len 48, RTM_GETROUTE, NLM_F_REQUEST, seq 7
                    "0a 80 00 00 00 00 00 00 00000000",  // rtm_family AF_INET6, rtm_dst_len 128, the rest 0
                    "1400 0100 20010db8000200000000000000000009"  // RTA_DST 2001:db8:2::9
                ))
    }

    @Test func socketDiagDumpTCPIPv4() throws {
        #expect(
            try SocketDiagMessages.dumpRequest(.tcp, family: .ipv4).encoded(sequence: 1)
                == hex(
                    "48000000",  // nlmsg_len 72
                    "1400",  // nlmsg_type SOCK_DIAG_BY_FAMILY (20)
                    "0103",  // nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP
                    "01000000",  // nlmsg_seq 1
                    "00000000",  // nlmsg_pid
                    "02",  // sdiag_family AF_INET
                    "06",  // sdiag_protocol IPPROTO_TCP
                    "00",  // idiag_ext: no extensions asked for (INET_DIAG_SKV6ONLY comes unasked)
                    "00",  // pad
                    "00040000",  // idiag_states 1 << TCP_LISTEN (10)
                    "0000 0000",  // id: idiag_sport, idiag_dport 0 (any)
                    "00000000000000000000000000000000",  // idiag_src
                    "00000000000000000000000000000000",  // idiag_dst
                    "00000000",  // idiag_if 0 (any)
                    "0000000000000000"  // idiag_cookie
                ))
    }

    /// UDP asks for TCP_CLOSE, a UDP socket's state while it is unconnected.
    @Test func socketDiagDumpUDPIPv6() throws {
        #expect(
            try SocketDiagMessages.dumpRequest(.udp, family: .ipv6).encoded(sequence: 4)
                == hex(
                    "48000000 1400 0103 04000000 00000000",  // as for TCP, seq 4
                    "0a",  // sdiag_family AF_INET6
                    "11",  // sdiag_protocol IPPROTO_UDP
                    "00 00",  // idiag_ext, pad
                    "80000000",  // idiag_states 1 << TCP_CLOSE (7)
                    "00000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000 0000000000000000"
                ))
    }

    @Test func socketDiagDumpSCTPIPv4() throws {
        #expect(
            try SocketDiagMessages.dumpRequest(.sctp, family: .ipv4).encoded(sequence: 5)
                == hex(
                    "48000000 1400 0103 05000000 00000000",
                    "02 84 00 00",  // AF_INET, IPPROTO_SCTP (132)
                    "00040000",  // 1 << TCP_LISTEN
                    "00000000 00000000000000000000000000000000 00000000000000000000000000000000 00000000 0000000000000000"
                ))
    }

    @Test func addressDump() throws {
        #expect(
            try AddressMessages.dumpRequest.encoded(sequence: 1)
                == hex(
                    "18000000",  // nlmsg_len 24
                    "1600",  // nlmsg_type RTM_GETADDR (22)
                    "0103",  // nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP
                    "01000000",  // nlmsg_seq 1
                    "00000000",  // nlmsg_pid
                    "00",  // ifa_family AF_UNSPEC: every family
                    "00 00 00",  // ifa_prefixlen, ifa_flags, ifa_scope
                    "00000000"  // ifa_index 0: every interface
                ))
    }

    /// Byte for byte the second request of `bridge link show` (iproute2 6.1), sequence aside.
    @Test func bridgePortDump() throws {
        #expect(
            try BridgeLinkMessages.dumpRequest.encoded(sequence: 1)
                == hex(
                    "20000000",  // nlmsg_len 32
                    "1200",  // nlmsg_type RTM_GETLINK (18)
                    "0103",  // nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP
                    "01000000",  // nlmsg_seq 1
                    "00000000",  // nlmsg_pid
                    "07 00",  // ifi_family AF_BRIDGE, padding
                    "0000",  // ifi_type
                    "00000000",  // ifi_index 0: every interface
                    "00000000 00000000"  // ifi_flags, ifi_change
                ))
    }

    /// A request that outgrows the buffer is refused, not written past its end.
    @Test func oversizedRequestIsRefused() {
        let request = NetlinkRequest(
            type: 1, flags: 1, header: .netfilter(family: 2),
            attributes: [.bytes(1, [UInt8](repeating: 0, count: NetlinkRequest.bufferSize))])
        #expect(throws: NetlinkError(operation: "build netlink message type 1", errno: 90)) {
            try request.encoded(sequence: 1)
        }
    }
}
