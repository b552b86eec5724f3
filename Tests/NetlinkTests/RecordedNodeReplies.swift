/// Replies recorded from Linux 6.18 for the `hostports` reads, in a scratch network namespace: `lo`
/// up (index 1); a veth pair `d1` (2) and `d0` (3), `d0` holding 192.0.2.1/24 and 2001:db8::1/64,
/// `d1` the point-to-point 192.0.2.5 peer 198.51.100.5 and 2001:db8:5::5 peer 2001:db8:5::6; routes
/// 198.51.100.0/24 via 192.0.2.254, 2001:db8:2::/64 via 2001:db8::fe, `blackhole 198.51.100.7` and
/// `prohibit 2001:db8:1::7`; and python3 holding TCP 127.0.0.1:5001 (listening), TCP [::]:5002
/// (listening, V6ONLY off), TCP [::]:5003 (listening, V6ONLY on), UDP 127.0.0.1:5004, UDP [::1]:5005,
/// UDP [::]:5006 (V6ONLY off), plus a UDP socket 127.0.0.1:5008 connected to :5004 and a TCP socket
/// bound to 0.0.0.0:5009 but not listening, neither of which the dumps asked for. Each was requested
/// by this module's own encoder on one socket (port ID 0x433a) and printed as it came off it.
enum RecordedNode {
    static let portID: UInt32 = 0x433a

    /// `SOCK_DIAG_BY_FAMILY` dump of listening AF_INET TCP, sequence 1: one socket, then NLMSG_DONE.
    static let tcpIPv4 = [
        hex(
            "7c000000 1400 0200 01000000 3a430000",  // nlmsghdr: len 124, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq 1
            "02 0a 00 00",  // inet_diag_msg: AF_INET, TCP_LISTEN, timer, retrans
            "1389 0000",  //   idiag_sport 5001, idiag_dport 0 (big-endian)
            "7f000001 000000000000000000000000",  //   idiag_src 127.0.0.1
            "00000000000000000000000000000000",  //   idiag_dst
            "00000000 1810000000000000",  //   idiag_if, idiag_cookie
            "00000000 00000000 80000000 00000000",  //   expires, rqueue, wqueue (backlog 128), uid
            "3efe2900",  //   idiag_inode 2752062
            "0500 0800 00000000",  // INET_DIAG_SHUTDOWN
            "0800 0f00 00000000",  // INET_DIAG_CLASS_ID
            "0c00 1500 0100000000000000",  // INET_DIAG_CGROUP_ID
            "0600 1600 52000000"  // INET_DIAG_SOCKOPT
        ),
        hex("14000000 0300 0200 01000000 3a430000 00000000"),  // NLMSG_DONE, status 0
    ]

    /// Listening AF_INET6 TCP: [::]:5002 and [::]:5003, which differ in INET_DIAG_SKV6ONLY (0, 1).
    static let tcpIPv6 = [
        hex(
            "84000000 1400 0200 01000000 3a430000",
            "0a 0a 00 00 138a 0000",  // AF_INET6, TCP_LISTEN, port 5002
            "00000000000000000000000000000000",  // idiag_src ::
            "00000000000000000000000000000000 00000000 1910000000000000",
            "00000000 00000000 80000000 00000000 3ffe2900",  // inode 2752063
            "0500 0800 00000000",
            "0500 0b00 00000000",  // INET_DIAG_SKV6ONLY 0: takes IPv4 too
            "0800 0f00 00000000 0c00 1500 0100000000000000 0600 1600 12000000",
            "84000000 1400 0200 01000000 3a430000",
            "0a 0a 00 00 138b 0000",  // port 5003
            "00000000000000000000000000000000",
            "00000000000000000000000000000000 00000000 1a10000000000000",
            "00000000 00000000 80000000 00000000 40fe2900",  // inode 2752064
            "0500 0800 00000000",
            "0500 0b00 01000000",  // INET_DIAG_SKV6ONLY 1
            "0800 0f00 00000000 0c00 1500 0100000000000000 0600 1600 12000000"
        ),
        hex("14000000 0300 0200 01000000 3a430000 00000000"),
    ]

    /// Unconnected AF_INET UDP: 127.0.0.1:5004 in TCP_CLOSE (7); the connected :5008 is not there.
    static let udpIPv4 = [
        hex(
            "7c000000 1400 0200 01000000 3a430000",
            "02 07 00 00 138c 0000",
            "7f000001 000000000000000000000000",
            "00000000000000000000000000000000 00000000 1510000000000000",
            "00000000 00000000 00000000 00000000 41fe2900",  // inode 2752065
            "0500 0800 00000000 0800 0f00 00000000 0c00 1500 0100000000000000 0600 1600 50000000"
        ),
        hex("14000000 0300 0200 01000000 3a430000 00000000"),
    ]

    /// Unconnected AF_INET6 UDP: [::1]:5005 (SKV6ONLY 1, set by the kernel for a bound address) and
    /// [::]:5006 (SKV6ONLY 0).
    static let udpIPv6 = [
        hex(
            "84000000 1400 0200 01000000 3a430000",
            "0a 07 00 00 138d 0000",
            "00000000000000000000000000000001",  // ::1
            "00000000000000000000000000000000 00000000 1610000000000000",
            "00000000 00000000 00000000 00000000 42fe2900",  // inode 2752066
            "0500 0800 00000000 0500 0b00 01000000",
            "0800 0f00 00000000 0c00 1500 0100000000000000 0600 1600 10000000",
            "84000000 1400 0200 01000000 3a430000",
            "0a 07 00 00 138e 0000",
            "00000000000000000000000000000000",
            "00000000000000000000000000000000 00000000 1710000000000000",
            "00000000 00000000 00000000 00000000 43fe2900",  // inode 2752067
            "0500 0800 00000000 0500 0b00 00000000",
            "0800 0f00 00000000 0c00 1500 0100000000000000 0600 1600 10000000"
        ),
        hex("14000000 0300 0200 01000000 3a430000 00000000"),
    ]

    /// The SCTP dump of either family on a kernel without SCTP: NLMSG_DONE alone, status -2 (ENOENT).
    static let sctpAbsent = [hex("14000000 0300 0200 01000000 3a430000 feffffff")]

    /// Every dump of a listing in `ListenerDump.dumps` order, sequences 1 to 6 (the recording
    /// numbered each 1; the sequence field is rewritten).
    static let listing: [[UInt8]] = [tcpIPv4, tcpIPv6, udpIPv4, udpIPv6, sctpAbsent, sctpAbsent].enumerated().flatMap { index, dump in
        dump.map { numbered($0, sequence: UInt32(index) + 1) }
    }

    /// `datagram` with every message's nlmsg_seq set to `sequence`.
    static func numbered(_ datagram: [UInt8], sequence: UInt32) -> [UInt8] {
        var bytes = datagram
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            bytes.replaceSubrange(offset + 8..<offset + 12, with: Control.littleEndian(sequence))
            offset += (length + 3) & ~3
        }
        return bytes
    }

    /// `RTM_GETADDR` dump of AF_UNSPEC, sequence 1: eight RTM_NEWADDR in one datagram, then NLMSG_DONE.
    static let addresses = [
        hex(
            // lo 127.0.0.1/8: ifaddrmsg (AF_INET, /8, IFA_F_PERMANENT, host scope, index 1), IFA_ADDRESS,
            // IFA_LOCAL, IFA_LABEL "lo", IFA_FLAGS, IFA_CACHEINFO
            "4c000000 1400 0200 01000000 3a430000",
            "02 08 80 fe 01000000",
            "0800 0100 7f000001",
            "0800 0200 7f000001",
            "0700 0300 6c6f0000",
            "0800 0800 80000000",
            "1400 0600 ffffffffffffffffea531100ea531100",
            // d1 192.0.2.5 peer 198.51.100.5: IFA_ADDRESS is the peer, IFA_LOCAL the interface's own
            "4c000000 1400 0200 01000000 3a430000",
            "02 20 80 00 02000000",
            "0800 0100 c6336405",
            "0800 0200 c0000205",
            "0700 0300 64310000 0800 0800 80000000 1400 0600 ffffffffffffffff3a5811003a581100",
            // d0 192.0.2.1/24
            "4c000000 1400 0200 01000000 3a430000",
            "02 18 80 00 03000000",
            "0800 0100 c0000201",
            "0800 0200 c0000201",
            "0700 0300 64300000 0800 0800 80000000 1400 0600 ffffffffffffffffeb531100eb531100",
            // lo ::1/128: IFA_ADDRESS only, as for every IPv6 address without a peer
            "50000000 1400 0200 01000000 3a430000",
            "0a 80 80 fe 01000000",
            "1400 0100 00000000000000000000000000000001",
            "1400 0600 ffffffffffffffffea531100ea531100 0800 0800 80000000 0500 0b00 01000000",
            // d1 2001:db8:5::5 peer 2001:db8:5::6: IFA_LOCAL first, then IFA_ADDRESS the peer
            "5c000000 1400 0200 01000000 3a430000",
            "0a 80 82 00 02000000",
            "1400 0200 20010db8000500000000000000000005",
            "1400 0100 20010db8000500000000000000000006",
            "1400 0600 ffffffffffffffff3a5811003a581100 0800 0800 82000000",
            // d1 fe80::cc2f:6bff:fe8b:65ac/64
            "50000000 1400 0200 01000000 3a430000",
            "0a 40 80 fd 02000000",
            "1400 0100 fe80000000000000cc2f6bfffe8b65ac",
            "1400 0600 ffffffffffffffffeb531100eb531100 0800 0800 80000000 0500 0b00 03000000",
            // d0 2001:db8::1/64
            "48000000 1400 0200 01000000 3a430000",
            "0a 40 82 00 03000000",
            "1400 0100 20010db8000000000000000000000001",
            "1400 0600 ffffffffffffffffec531100ec531100 0800 0800 82000000",
            // d0 fe80::6c4d:7eff:fe8d:7948/64
            "50000000 1400 0200 01000000 3a430000",
            "0a 40 80 fd 03000000",
            "1400 0100 fe800000000000006c4d7efffe8d7948",
            "1400 0600 ffffffffffffffffeb531100eb531100 0800 0800 80000000 0500 0b00 03000000"
        ),
        hex("14000000 0300 0200 01000000 3a430000 00000000"),
    ]

    /// RTM_NEWROUTE for 198.51.100.9, sequence 7: rtmsg (AF_INET, /32, table main, RTN_UNICAST),
    /// RTA_TABLE, RTA_DST, RTA_OIF 3 (`d0`), RTA_PREFSRC 192.0.2.1, RTA_GATEWAY 192.0.2.254, RTA_UID,
    /// RTA_CACHEINFO.
    static let routeViaGateway = hex(
        "70000000 1800 0000 07000000 3a430000",
        "02 20 00 00 fe 00 00 01 00020000",
        "0800 0f00 fe000000",
        "0800 0100 c6336409",
        "0800 0400 03000000",
        "0800 0700 c0000201",
        "0800 0500 c00002fe",
        "0800 1900 00000000",
        "2400 0c00 0200000000000000000000000000000000000000000000000000000000000000"
    )

    /// RTM_NEWROUTE for 2001:db8:2::9: rtmsg (AF_INET6, /128, table main, proto 3, RTN_UNICAST),
    /// RTA_TABLE, RTA_DST, RTA_SRC ::, RTA_PREFSRC 2001:db8::1, RTA_PRIORITY 1024, RTA_GATEWAY
    /// 2001:db8::fe, RTA_OIF 3, RTA_CACHEINFO, RTA_PREF.
    static let routeViaGatewayIPv6 = hex(
        "b0000000 1800 0000 07000000 3a430000",
        "0a 80 80 00 fe 03 00 01 00000000",
        "0800 0f00 fe000000",
        "1400 0100 20010db8000200000000000000000009",
        "1400 0200 00000000000000000000000000000000",
        "1400 0700 20010db8000000000000000000000001",
        "0800 0600 00040000",
        "1400 0500 20010db80000000000000000000000fe",
        "0800 0400 03000000",
        "2400 0c00 0200000000000000000000000000000000000000000000000000000000000000",
        "0500 1400 00000000"
    )

    /// RTM_NEWROUTE for 192.0.2.7, on `d0`'s link: RTN_UNICAST, RTA_OIF 3, no RTA_GATEWAY.
    static let routeOnLink = hex(
        "68000000 1800 0000 07000000 3a430000",
        "02 20 00 00 fe 00 00 01 00020000",
        "0800 0f00 fe000000",
        "0800 0100 c0000207",
        "0800 0400 03000000",
        "0800 0700 c0000201",
        "0800 1900 00000000",
        "2400 0c00 0200000000000000000000000000000000000000000000000000000000000000"
    )

    /// RTM_NEWROUTE for the node's own 192.0.2.1: RTN_LOCAL (2), RTA_OIF 1 (`lo`).
    static let routeLocal = hex(
        "68000000 1800 0000 07000000 3a430000",
        "02 20 00 00 fe 00 00 02 00020080",
        "0800 0f00 fe000000",
        "0800 0100 c0000201",
        "0800 0400 01000000",
        "0800 0700 c0000201",
        "0800 1900 00000000",
        "2400 0c00 0100000000000000000000000000000000000000000000000000000000000000"
    )

    /// RTM_NEWROUTE for the node's own 2001:db8::1: table local (255), RTN_LOCAL, RTA_OIF 1.
    static let routeLocalIPv6 = hex(
        "9c000000 1800 0000 07000000 3a430000",
        "0a 80 80 00 ff 02 00 02 00000000",
        "0800 0f00 ff000000",
        "1400 0100 20010db8000000000000000000000001",
        "1400 0200 00000000000000000000000000000000",
        "1400 0700 20010db8000000000000000000000001",
        "0800 0600 00000000",
        "0800 0400 01000000",
        "2400 0c00 0200000000000000000000000000000000000000000000000000000000000000",
        "0500 1400 00000000"
    )

    /// The lookup of 198.51.100.7 (a blackhole route): NLMSG_ERROR -22 (EINVAL), request echoed.
    static let routeBlackhole = hex(
        "38000000 0200 0000 07000000 3a430000",
        "eaffffff",
        "240000001a000100070000000000000002200000000000000000000008000100c6336407"
    )

    /// The lookup of 2001:db8:1::7 (a prohibit route): NLMSG_ERROR -13 (EACCES), request echoed.
    static let routeProhibitIPv6 = hex(
        "44000000 0200 0000 07000000 3a430000",
        "f3ffffff",
        "300000001a00010007000000000000000a80000000000000000000001400010020010db8000100000000000000000007"
    )
}
