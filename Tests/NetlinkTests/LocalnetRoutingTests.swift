import PortmapCore
import Testing

@testable import Netlink

/// The route lookup and the `route_localnet` switch, against recorded kernel answers and a scratch
/// /proc/sys.
struct LocalnetRoutingTests {
    static let container = IPAddress("10.0.0.2")!

    @Test func routeThroughAVethEnablesItsSwitch() throws {
        let procSys = try ScratchProcSys(interfaces: ["vh.100": "0\n", "eth0": "0\n"])
        let socket = FakeTransport(portID: Recorded.routeToVethPortID, replies: [Recorded.routeToVeth])
        let network = hostNetwork(route: socket, procSys: procSys.root, firstSequence: 7, names: [2: "vh.100"])
        #expect(try network.enableLocalnetRouting(toward: Self.container) == "vh.100")
        #expect(socket.sent == [try RouteLookup.request(toward: Self.container).encoded(sequence: 7)])
        #expect(try procSys.routeLocalnet("vh.100") == "1\n")
        #expect(try procSys.routeLocalnet("eth0") == "0\n")
    }

    /// A switch already on is left alone; the file keeps its exact bytes.
    @Test(arguments: ["1", "1\n"])
    func switchAlreadyOnIsNotRewritten(_ content: String) throws {
        let procSys = try ScratchProcSys(interfaces: ["vh.100": content])
        #expect(try RouteLocalnetSwitch(procSys: procSys.root).enable(on: "vh.100") == false)
        #expect(try procSys.routeLocalnet("vh.100") == content)
    }

    /// Names with dots are one path component, not sysctl's dotted syntax.
    @Test(arguments: ["eth0.100", "vlan.2.3", "cni0"])
    func interfaceNamesAreLiteralPathComponents(_ name: String) throws {
        let procSys = try ScratchProcSys(interfaces: [name: "0\n"])
        let routeLocalnet = RouteLocalnetSwitch(procSys: procSys.root)
        #expect(routeLocalnet.path(for: name) == "\(procSys.root)/net/ipv4/conf/\(name)/route_localnet")
        #expect(try routeLocalnet.enable(on: name))
        #expect(try procSys.routeLocalnet(name) == "1\n")
    }

    @Test func loopbackRouteNeedsNoSwitch() throws {
        let socket = FakeTransport(portID: Recorded.routeToLoopbackPortID, replies: [Recorded.routeToLoopback])
        let network = hostNetwork(route: socket, firstSequence: 7, names: [1: "lo"])
        #expect(try network.enableLocalnetRouting(toward: IPAddress("127.0.0.1")!) == nil)
    }

    @Test func noRouteNeedsNoSwitch() throws {
        let socket = FakeTransport(portID: Recorded.noRoutePortID, replies: [Recorded.noRoute])
        #expect(try hostNetwork(route: socket, firstSequence: 7).enableLocalnetRouting(toward: IPAddress("203.0.113.5")!) == nil)
    }

    @Test func unreachableHostNeedsNoSwitch() throws {
        let socket = FakeTransport(replies: [Control.error(113, sequence: 7)])  // EHOSTUNREACH
        #expect(try hostNetwork(route: socket, firstSequence: 7).enableLocalnetRouting(toward: Self.container) == nil)
    }

    @Test func otherLookupErrorsSurface() {
        let socket = FakeTransport(replies: [Control.error(22, sequence: 7)])  // EINVAL, as for a blackhole route
        #expect(throws: HostNetworkError(operation: "look up the route to 10.0.0.2", errno: 22, message: "Invalid argument")) {
            try hostNetwork(route: socket, firstSequence: 7).enableLocalnetRouting(toward: Self.container)
        }
    }

    @Test func answerWithoutOutputInterfaceNeedsNoSwitch() throws {
        // The recorded answer with its RTA_OIF turned into RTA_PRIORITY (6), which the lookup ignores.
        var reply = Recorded.routeToVeth
        let oif = reply.firstRange(of: hex("0800 0400 02000000"))!
        reply[oif.lowerBound + 2] = 6
        let socket = FakeTransport(replies: [reply])
        #expect(try hostNetwork(route: socket, firstSequence: 7).enableLocalnetRouting(toward: Self.container) == nil)
    }

    @Test func interfaceGoneAfterTheLookupIsAnError() {
        let socket = FakeTransport(replies: [Recorded.routeToVeth])
        #expect(throws: HostNetworkError(operation: "name interface 2, the route to 10.0.0.2", errno: 19, message: "No such device")) {
            try hostNetwork(route: socket, firstSequence: 7).enableLocalnetRouting(toward: Self.container)
        }
    }

    @Test func missingSwitchIsAnError() throws {
        let procSys = try ScratchProcSys(interfaces: [:])
        let socket = FakeTransport(replies: [Recorded.routeToVeth])
        let path = "\(procSys.root)/net/ipv4/conf/vh.100/route_localnet"
        #expect(throws: HostNetworkError(operation: "open \(path)", errno: 2, message: "No such file or directory")) {
            try hostNetwork(route: socket, procSys: procSys.root, firstSequence: 7, names: [2: "vh.100"])
                .enableLocalnetRouting(toward: Self.container)
        }
    }

    /// IPv6 has no `route_localnet`: nothing to look up, no socket opened.
    @Test func ipv6ContainerOpensNoSocket() throws {
        let opens = OpenCounter()
        #expect(try hostNetwork(opens: opens).enableLocalnetRouting(toward: IPAddress("2001:db8::2")!) == nil)
        #expect(opens.count == 0)
    }
}
