internal import CMnl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

    /// Whether a datagram is already waiting, found without waiting for one (`poll` with no
    /// timeout). The kernel answers an nfnetlink batch while `send` runs, so once it returns,
    /// what is queued is all there will be.
    func hasQueuedDatagram() -> Bool {
        var entry = pollfd(fd: mnl_socket_get_fd(socket), events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// Makes room for a datagram of `size` bytes: the kernel refuses one larger than the socket's
    /// send buffer (EMSGSIZE), and a batch that deletes thousands of elements (a GC) is. Past
    /// `wmem_max` only with CAP_NET_ADMIN (SO_SNDBUFFORCE), which the plugin has, as nft does.
    func reserveSendBuffer(for size: Int) throws(NetlinkError) {
        let descriptor = mnl_socket_get_fd(socket)
        let optionLength = socklen_t(MemoryLayout<Int32>.size)
        var current: Int32 = 0
        var currentLength = optionLength
        // The kernel keeps 32 bytes of the buffer for itself (netlink_sendmsg).
        var needed = Int32(clamping: size + 32)
        if getsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &current, &currentLength) == 0, current >= needed { return }
        guard
            setsockopt(descriptor, SOL_SOCKET, SO_SNDBUFFORCE, &needed, optionLength) == 0
                || setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &needed, optionLength) == 0
        else {
            throw NetlinkError(operation: "grow the \(bus.rawValue) netlink send buffer to \(needed) bytes", errno: cni_mnl_errno())
        }
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
