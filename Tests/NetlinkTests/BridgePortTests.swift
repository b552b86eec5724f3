import PortmapCore
import Snapshots
import Testing

@testable import HostScan
@testable import Netlink

/// Bridge ports from an AF_BRIDGE link dump, each message laid out as the kernel's
/// `br_fill_ifinfo` writes it, trimmed to the attributes read (the kernel's own replies are read
/// in `InterfaceFilesTests.bridgeInAnotherNamespace`).
struct BridgePortTests {
    /// RTM_NEWLINK of one interface: ifinfomsg (AF_BRIDGE, ARPHRD_ETHER, `index`), IFLA_IFNAME,
    /// IFLA_MASTER, and IFLA_PROTINFO with IFLA_BRPORT_MODE when `hairpin` is given.
    static func link(index: UInt32, name: String, master: UInt32, hairpin: UInt8?) -> [UInt8] {
        func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
            let length = 4 + payload.count
            return [UInt8(length & 0xff), UInt8(length >> 8), UInt8(type & 0xff), UInt8(type >> 8)] + payload
                + [UInt8](repeating: 0, count: (4 - length % 4) % 4)
        }
        let header = [7, 0, 1, 0] + Control.littleEndian(index) + [UInt8](repeating: 0, count: 8)
        var attributes = attribute(3, Array(name.utf8) + [0]) + attribute(10, Control.littleEndian(master))
        if let hairpin { attributes += attribute(12, attribute(4, [hairpin])) }
        let body = header + attributes
        return Control.header(length: UInt32(16 + body.count), type: 16, flags: 2, sequence: 1, portID: 0) + body
    }

    /// Two bridges' ports, one datagram: each bridge's sorted by name, hairpin as the kernel has it;
    /// a link without port options (no bridge port) and a bridge whose index names nothing (gone
    /// since) are left out.
    @Test func portsByBridgeName() throws {
        let datagram =
            Self.link(index: 4, name: "vethB", master: 2, hairpin: 0) + Self.link(index: 3, name: "vethA", master: 2, hairpin: 1)
            + Self.link(index: 5, name: "veth9", master: 9, hairpin: 1) + Self.link(index: 6, name: "vethC", master: 7, hairpin: 1)
            + Self.link(index: 2, name: "cni0", master: 2, hairpin: nil) + Control.done(sequence: 1)
        let route = FakeTransport(replies: [datagram])
        let ports = try nodeReader(route: route, names: [2: "cni0", 7: "cni1"]).bridgePorts()
        #expect(
            ports == [
                "cni0": [BridgePort(name: "vethA", hairpin: true), BridgePort(name: "vethB", hairpin: false)],
                "cni1": [BridgePort(name: "vethC", hairpin: true)],
            ])
        #expect(route.sent == [try BridgeLinkMessages.dumpRequest.encoded(sequence: 1)])
    }

    @Test func aFailedDumpIsTheReadsError() {
        let route = FakeTransport(replies: [Control.error(105, sequence: 1)])
        #expect(throws: HostNetworkError(operation: "dump the bridge ports", errno: 105, message: "No buffer space available")) {
            try nodeReader(route: route).bridgePorts()
        }
    }
}
