import PortmapCore

/// A socket that holds a port for real (what `ss -lntu` shows).
public struct ListeningSocket: Sendable, Hashable {
    public struct Owner: Sendable, Hashable {
        public var pid: Int32
        public var command: String

        public init(pid: Int32, command: String) {
            self.pid = pid
            self.command = command
        }
    }

    public var `protocol`: TransportProtocol
    public var family: IPFamily
    /// The bound address; `0.0.0.0` / `::` for every address (an IPv6 wildcard socket without
    /// IPV6_V6ONLY also takes IPv4, which `acceptsIPv4` says).
    public var address: IPAddress
    public var port: UInt16
    public var acceptsIPv4: Bool
    /// The socket's inode, which ties it to the processes that hold it.
    public var inode: UInt32
    public var owners: [Owner]

    public init(
        protocol: TransportProtocol, family: IPFamily, address: IPAddress, port: UInt16,
        acceptsIPv4: Bool = false, inode: UInt32 = 0, owners: [Owner] = []
    ) {
        self.protocol = `protocol`
        self.family = family
        self.address = address
        self.port = port
        self.acceptsIPv4 = acceptsIPv4
        self.inode = inode
        self.owners = owners
    }
}
