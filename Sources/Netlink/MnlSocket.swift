#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMnl

/// A netlink socket on one bus, bound to a port ID the kernel picks: the real `NetlinkTransport`.
///
/// libmnl's socket half; with `MnlMessages.swift` the only Swift that calls libmnl. One socket
/// serves one verb and is closed when released.
final class MnlSocket: NetlinkTransport {
    enum Bus: String {
        case netfilter
        case route
        case sockDiag = "sock_diag"

        var protocolNumber: Int32 {
            switch self {
            case .netfilter: NETLINK_NETFILTER
            case .route: NETLINK_ROUTE
            case .sockDiag: NETLINK_SOCK_DIAG
            }
        }
    }

    /// The kernel sizes dump datagrams by the largest receive buffer it has seen, up to 32 KiB
    /// (netlink_recvmsg); a buffer that large never truncates one.
    static let receiveBufferSize = 32 * 1024

    private let socket: OpaquePointer
    let bus: Bus
    let portID: UInt32

    init(_ bus: Bus) throws(NetlinkError) {
        guard let socket = mnl_socket_open(bus.protocolNumber) else {
            let code = cni_mnl_errno()
            throw NetlinkError(operation: "open \(bus.rawValue) netlink socket", errno: code)
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = cni_mnl_errno()
            mnl_socket_close(socket)
            throw NetlinkError(operation: "bind \(bus.rawValue) netlink socket", errno: code)
        }
        self.socket = socket
        self.bus = bus
        portID = mnl_socket_get_portid(socket)
    }

    deinit {
        mnl_socket_close(socket)
    }

    func send(_ message: [UInt8]) throws(NetlinkError) {
        let (sent, code) = message.withUnsafeBytes { bytes in
            let sent = mnl_socket_sendto(socket, bytes.baseAddress, bytes.count)
            return (sent, cni_mnl_errno())
        }
        guard sent < 0 else { return }
        throw NetlinkError(operation: "send on \(bus.rawValue) netlink socket", errno: code)
    }

    /// One datagram; a signal during the wait is not a failure, so EINTR waits again.
    func receive() throws(NetlinkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        while true {
            let (count, code) = buffer.withUnsafeMutableBytes { raw in
                let count = mnl_socket_recvfrom(socket, raw.baseAddress, raw.count)
                return (count, cni_mnl_errno())
            }
            if count >= 0 { return Array(buffer.prefix(count)) }
            guard code == EINTR else {
                throw NetlinkError(operation: "receive on \(bus.rawValue) netlink socket", errno: code)
            }
        }
    }
}
