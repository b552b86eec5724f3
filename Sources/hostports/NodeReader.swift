import ArgumentParser
import Diagnostics
import HostScan
import IPTablesBackend
import NFTablesBackend
import Netlink
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Fills a `NodeSnapshot` from the kernel of the network namespace the command runs in. Reads
/// only: the legacy nat tables without the xtables lock and without opening a table that does not
/// exist, the nftables backend's tables, sockets, addresses, bridge ports and routes over netlink,
/// switches from /proc/sys.
struct NodeReader {
    let netlink = NetlinkNodeReader()
    let files = InterfaceFiles(procSys: "/proc/sys")

    /// The node's inventory, or exit status 2 with the reason on stderr when a part the analysis
    /// cannot do without is unreadable. The scan of the other namespaces (the pods' addresses,
    /// loopback aside) is optional: without it (no CAP_SYS_ADMIN) the pod-gone check is skipped,
    /// and stderr says so.
    static func read() throws -> HostPortInventory {
        do {
            return try NodeReader().inventory()
        } catch {
            warn("cannot read the node: \(error)")
            throw ExitCode(2)
        }
    }

    /// The tables are interpreted once, as soon as they are read: their pods say which routes,
    /// interfaces and bridges the rest of the snapshot needs. The namespace scan starts after the
    /// tables are read: beside the chain dumps (on a 2-core node with 1000 pods) it slowed them by
    /// more than it ran for; beside the interpretation and the node's own dumps it costs nothing.
    func inventory() throws -> HostPortInventory {
        var snapshot = NodeSnapshot()
        for reader in Self.tableReaders { snapshot.tables += try reader.tableSnapshots(natChains: HostPortInventory.natChainsRead) }
        let scan = try PodAddressScan()
        let tables = HostPortInventory.tables(of: snapshot)
        snapshot.listeners = try netlink.listeningSockets()
        snapshot.localAddresses = try netlink.localAddresses()
        let pods = Set(tables.flatMap(\.mappings).map(\.podIP))
        var interfaces: Set<String> = []
        let ordered = pods.sorted { $0.family == $1.family ? $0.bytes.lexicographicallyPrecedes($1.bytes) : $0.family == .ipv4 }
        let routes = try netlink.routes(to: ordered)
        for pod in ordered {
            switch routes[pod] {
            case .success(let route)?:
                snapshot.routes[pod] = route
                if let name = route.outputInterface { interfaces.insert(name) }
            case .failure(let error)?:
                Self.warn("cannot look up the route to \(pod): \(error)")
            case nil:
                break
            }
        }
        snapshot.routeLocalnet = try files.routeLocalnet(of: interfaces.sorted())
        let bridges = interfaces.isEmpty ? [:] : try netlink.bridgePorts()
        for name in interfaces { snapshot.bridges[name] = bridges[name] }
        switch scan.wait() {
        case .success(let found):
            snapshot.podNamespaceAddresses = Set(found.visits.flatMap(\.value).filter { !$0.isLoopback })
            snapshot.unenteredNamespaces = found.skipped
        case .failure(let error):
            Self.warn("pod-gone check skipped: \(error)")
        }
        return HostPortInventory(snapshot, tables: tables)
    }

    /// Every backend's reader; a new backend adds its own here.
    static var tableReaders: [any TableSnapshotReader] { [IPTablesBackend(environment: [:]), NFTablesBackend(environment: [:])] }

    static func warn(_ message: String) {
        let line = Array("hostports: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
