import PortmapCore
import Testing

@testable import Netlink

/// The namespace's addresses from the dump the kernel really sent (`RecordedNode.addresses`).
struct LocalAddressTests {
    /// Both families in one dump, loopback included; on the point-to-point links the interface's own
    /// address (IFA_LOCAL), not the peer's (IFA_ADDRESS: 198.51.100.5, 2001:db8:5::6).
    @Test func recordedAddresses() throws {
        let socket = FakeTransport(portID: RecordedNode.portID, replies: RecordedNode.addresses)
        let addresses = try nodeReader(route: socket).localAddresses()
        #expect(
            addresses
                == [
                    "127.0.0.1", "192.0.2.5", "192.0.2.1", "::1", "2001:db8:5::5", "fe80::cc2f:6bff:fe8b:65ac",
                    "2001:db8::1", "fe80::6c4d:7eff:fe8d:7948",
                ].map { IPAddress($0)! })
        #expect(socket.sent == [try AddressMessages.dumpRequest.encoded(sequence: 1)])
        #expect(socket.repliesLeft == 0)
    }

    /// An address on two interfaces is listed once.
    @Test func repeatedAddressIsListedOnce() throws {
        let loopback = Array(RecordedNode.addresses[0].prefix(0x4c))
        let socket = FakeTransport(replies: [loopback + loopback, RecordedNode.addresses[1]])
        #expect(try nodeReader(route: socket).localAddresses() == [IPAddress("127.0.0.1")!])
    }

    /// Only AF_INET and AF_INET6 messages are addresses; a family whose addresses are not IP (as
    /// AF_PHONET's would be) is skipped.
    @Test func otherFamiliesAreSkipped() {
        var bytes = Array(RecordedNode.addresses[0].prefix(0x4c))
        bytes[16] = 35  // ifa_family AF_PHONET
        #expect(AddressMessages.address(from: ReplyMessage(type: Kernel.Address.newMessage, flags: 2, bytes: bytes)) == nil)
        bytes[16] = 2
        #expect(AddressMessages.address(from: ReplyMessage(type: Kernel.Address.newMessage, flags: 2, bytes: bytes)) == IPAddress("127.0.0.1"))
    }

    @Test func dumpErrorSurfacesAsTheTypedError() {
        let socket = FakeTransport(replies: [Control.error(105, sequence: 1)])  // ENOBUFS
        #expect(throws: HostNetworkError(operation: "dump the addresses", errno: 105, message: "No buffer space available")) {
            try nodeReader(route: socket).localAddresses()
        }
    }
}
