import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The read-only netlink dumps `hostports` needs (listening sockets over sock_diag, addresses,
/// bridge ports and route lookups over rtnetlink), so the scan above this module sees no socket or message type.
///
/// Each method opens its socket in the calling thread's network namespace and closes it when it
/// returns. `NetlinkError`s become `HostNetworkError`s here.
package struct NodeDumps: Sendable {
    let openSocketDiag: NetlinkTransportOpener
    let openRoute: NetlinkTransportOpener
    /// Each method numbers its requests from here; the kernel echoes the number in its replies.
    let firstSequence: UInt32
    let interfaceName: @Sendable (UInt32) -> String?

    /// The host's netlink sockets.
    package init() {
        self.init(
            openSocketDiag: { () throws(NetlinkError) in try MnlSocket(.sockDiag) },
            openRoute: { () throws(NetlinkError) in try MnlSocket(.route) },
            firstSequence: UInt32(truncatingIfNeeded: time(nil)),
            interfaceName: NetlinkHostNetwork.systemInterfaceName)
    }

    /// Transports, sequence numbers and interface names injected, for tests.
    init(
        openSocketDiag: @escaping NetlinkTransportOpener, openRoute: @escaping NetlinkTransportOpener,
        firstSequence: UInt32, interfaceName: @escaping @Sendable (UInt32) -> String?
    ) {
        self.openSocketDiag = openSocketDiag
        self.openRoute = openRoute
        self.firstSequence = firstSequence
        self.interfaceName = interfaceName
    }

    /// Listening TCP and SCTP sockets and bound, unconnected UDP sockets of both families, in dump
    /// order (TCP, UDP, SCTP; IPv4 before IPv6 in each), without owners.
    package func listeningSockets() throws(HostNetworkError) -> [ListeningSocket] {
        do {
            return try ListenerDump(transport: openSocketDiag(), firstSequence: firstSequence).run()
        } catch {
            throw error.hostNetworkError
        }
    }

    /// Every IPv4 and IPv6 address of the namespace's interfaces, loopback included, each once, in
    /// the kernel's order.
    package func localAddresses() throws(HostNetworkError) -> [IPAddress] {
        let replies: [ReplyMessage]
        do {
            replies = try openRoute().exchange(AddressMessages.dumpRequest, sequence: firstSequence, operation: "dump the addresses")
        } catch {
            throw error.hostNetworkError
        }
        var seen: Set<IPAddress> = []
        return replies.compactMap(AddressMessages.address).filter { seen.insert($0).inserted }
    }

    /// The ports of every bridge, by the bridge's name, each bridge's sorted by name; a bridge
    /// without ports is not there.
    package func bridgePorts() throws(HostNetworkError) -> [String: [BridgePort]] {
        let replies: [ReplyMessage]
        do {
            replies = try openRoute().exchange(BridgeLinkMessages.dumpRequest, sequence: firstSequence, operation: "dump the bridge ports")
        } catch {
            throw error.hostNetworkError
        }
        var byIndex: [UInt32: [BridgePort]] = [:]
        for (bridge, port) in replies.compactMap(BridgeLinkMessages.port) { byIndex[bridge, default: []].append(port) }
        return byIndex.reduce(into: [:]) { ports, bridge in
            if let name = interfaceName(bridge.key) { ports[name] = bridge.value.sorted { $0.name < $1.name } }
        }
    }

    /// The route to each of `destinations`, over one socket, each interface named once: the
    /// routes to a node's thousands of pod addresses. A lookup that fails is that destination's
    /// failure; failing to open the socket throws.
    package func routes(to destinations: [IPAddress]) throws(HostNetworkError) -> [IPAddress: Result<RouteFact, HostNetworkError>] {
        let transport: any NetlinkTransport
        do {
            transport = try openRoute()
        } catch {
            throw error.hostNetworkError
        }
        var names: [UInt32: String?] = [:]
        func name(_ index: UInt32) -> String? {
            if let known = names[index] { return known }
            let found = interfaceName(index)
            names[index] = found
            return found
        }
        var results: [IPAddress: Result<RouteFact, HostNetworkError>] = [:]
        for (offset, destination) in destinations.enumerated() {
            do throws(NetlinkError) {
                let lookup = RouteLookup(transport: transport, sequence: firstSequence &+ UInt32(truncatingIfNeeded: offset))
                results[destination] = .success(try lookup.fact(toward: destination, interfaceName: name))
            } catch {
                results[destination] = .failure(error.hostNetworkError)
            }
        }
        return results
    }
}
