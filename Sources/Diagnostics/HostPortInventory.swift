import PortmapCore
import Snapshots

/// The node's hostPorts: every mapping of every family and store, with the listening sockets on
/// the same ports. What `hostports list` prints and what `conflicts` and `explain` start from.
public struct HostPortInventory: Sendable {
    public let snapshot: NodeSnapshot
    public let tables: [HostPortTable]
    /// All mappings: the legacy nat tables' (IPv4 first, in chain and rule order), then the
    /// nftables tables' (ours, then upstream's).
    public let mappings: [HostPortMapping]
    /// kube-proxy's NodePorts, external and load-balancer IPs, from every iptables store and its
    /// nftables table.
    public let servicePorts: [ServicePort]

    public init(_ snapshot: NodeSnapshot) {
        self.init(snapshot, tables: Self.tables(of: snapshot))
    }

    /// With `tables` already interpreted from `snapshot`'s tables (`tables(of:)`): the reader needs
    /// the mappings before the snapshot is complete (to know which pod routes to look up) and
    /// interprets the tables once, not again for the report.
    public init(_ snapshot: NodeSnapshot, tables: [HostPortTable]) {
        self.snapshot = snapshot
        self.tables = tables
        mappings = tables.flatMap(\.mappings)
        servicePorts = snapshot.tables.flatMap { table -> [ServicePort] in
            switch table {
            case .nat(let nat): KubeProxyInterpreter.servicePorts(nat)
            case .foreignNFTables(let foreign): KubeProxyNFTablesInterpreter.servicePorts(foreign)
            default: []
            }
        }
    }

    /// The nat chains whose rules the interpreters read: the base chains, each forwarder's
    /// entry, per-container and masquerade chains, Docker's, and kube-proxy's two that hold
    /// its node ports (not its per-Service chains). The others are read by name only.
    public static let natChainsRead = NatChainSelection(
        names: Set(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", DockerNatInterpreter.chain, KubeProxyInterpreter.services, KubeProxyInterpreter.nodePorts])
            .union(NatForwarderLayout.all.flatMap { [$0.entryChain, $0.masqueradeChain] }),
        prefixes: NatForwarderLayout.all.flatMap { [$0.containerChainPrefix] + ($0.masqueradeChainPrefix.map { [$0] } ?? []) })

    /// The hostPort tables of `snapshot`'s tables, each by its layout's interpreter, in order.
    public static func tables(of snapshot: NodeSnapshot) -> [HostPortTable] {
        snapshot.tables.flatMap { table in
            switch table {
            case .nat(let nat): LegacyNatInterpreter.interpret(nat)
            case .nftables(let nft): [NFTablesInterpreter.interpret(nft)]
            case .upstreamNFTables(let upstream): [UpstreamNFTablesInterpreter.interpret(upstream)]
            case .foreignNFTables(let foreign): ForeignNFTablesInterpreter.interpret(foreign)
            }
        }
    }

    /// The listening sockets that would receive traffic for `mapping` if it were not DNATed: same
    /// protocol and port, on an address the mapping claims or on every address.
    public func listeners(sharing mapping: HostPortMapping) -> [ListeningSocket] {
        snapshot.listeners.filter { socket in
            guard socket.protocol == mapping.protocol, socket.port == mapping.hostPort else { return false }
            let family = socket.family == mapping.family || (mapping.family == .ipv4 && socket.acceptsIPv4)
            guard family else { return false }
            if socket.address.isUnspecified { return true }
            // Every local address, 127.0.0.1 included, matches `addrtype LOCAL`: a mapping on all
            // addresses takes traffic to any socket of its family, a bound one to its address only.
            guard socket.address.family == mapping.family else { return false }
            return mapping.hostIP.map { $0 == socket.address } ?? true
        }
    }
}
