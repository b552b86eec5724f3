import PortmapCore
import Snapshots
import Testing

@testable import Netlink

/// Route facts from the answers the kernel really gave (`RecordedNode`, `Recorded.noRoute`).
struct RouteFactTests {
    static let names: [UInt32: String] = [1: "lo", 3: "d0"]

    /// The reply, the address it answers and the fact read from it.
    static let cases: [([UInt8], String, RouteFact)] = [
        (RecordedNode.routeViaGateway, "198.51.100.9", RouteFact(kind: .unicast, outputInterface: "d0", gateway: IPAddress("192.0.2.254"))),
        (RecordedNode.routeViaGatewayIPv6, "2001:db8:2::9", RouteFact(kind: .unicast, outputInterface: "d0", gateway: IPAddress("2001:db8::fe"))),
        (RecordedNode.routeOnLink, "192.0.2.7", RouteFact(kind: .unicast, outputInterface: "d0")),
        (RecordedNode.routeLocal, "192.0.2.1", RouteFact(kind: .local, outputInterface: "lo")),
        (RecordedNode.routeLocalIPv6, "2001:db8::1", RouteFact(kind: .local, outputInterface: "lo")),
        (RecordedNode.routeBlackhole, "198.51.100.7", RouteFact(kind: .unreachable)),
        (RecordedNode.routeProhibitIPv6, "2001:db8:1::7", RouteFact(kind: .unreachable)),
        (Recorded.noRoute, "203.0.113.5", RouteFact(kind: .unreachable)),
        (Control.error(113, sequence: 7), "198.51.100.8", RouteFact(kind: .unreachable)),  // EHOSTUNREACH: an unreachable route
    ]

    @Test(arguments: cases)
    func recordedAnswers(reply: [UInt8], destination: String, fact: RouteFact) throws {
        let address = IPAddress(destination)!
        let socket = FakeTransport(replies: [reply])
        #expect(try nodeReader(route: socket, firstSequence: 7, names: Self.names).route(to: address) == fact)
        #expect(socket.sent == [try RouteLookup.request(toward: address, fibMatch: true).encoded(sequence: 7)])
    }

    /// A route type that drops packets is unreachable even when it comes as an answer (as it does
    /// for a lookup with RTM_F_FIB_MATCH), whatever interface it names.
    @Test(arguments: [6, 7, 8] as [UInt8])  // RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT
    func droppingRouteTypesAreUnreachable(type: UInt8) throws {
        var reply = RecordedNode.routeOnLink
        reply[16 + 7] = type
        let socket = FakeTransport(replies: [reply])
        #expect(
            try nodeReader(route: socket, firstSequence: 7, names: Self.names).route(to: IPAddress("192.0.2.7")!)
                == RouteFact(kind: .unreachable))
    }

    /// The interface went away between the answer and its naming: the fact stands without a name.
    @Test func vanishedInterfaceHasNoName() throws {
        let socket = FakeTransport(replies: [RecordedNode.routeViaGateway])
        #expect(
            try nodeReader(route: socket, firstSequence: 7).route(to: IPAddress("198.51.100.9")!)
                == RouteFact(kind: .unicast, gateway: IPAddress("192.0.2.254")))
    }

    @Test func otherLookupErrorsSurface() {
        let socket = FakeTransport(replies: [Control.error(1, sequence: 7)])
        #expect(throws: HostNetworkError(operation: "look up the route to 192.0.2.7", errno: 1, message: "Operation not permitted")) {
            try nodeReader(route: socket, firstSequence: 7).route(to: IPAddress("192.0.2.7")!)
        }
    }

    /// An answer with no route message in it (an ACK) is not taken for any kind of route.
    @Test func answerWithoutRouteIsAnError() {
        let socket = FakeTransport(replies: [Control.ack(sequence: 7)])
        #expect(throws: HostNetworkError(operation: "look up the route to 192.0.2.7: no route in the answer", errno: 74, message: "Bad message")) {
            try nodeReader(route: socket, firstSequence: 7).route(to: IPAddress("192.0.2.7")!)
        }
    }
}
