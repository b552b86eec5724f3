import PortmapCore
import Snapshots

/// A node port kube-proxy takes for a Service: a NodePort on every node address (or on its
/// `--nodeport-addresses`), or an external or load-balancer IP. Not a hostPort, but the same
/// kind of claim: a hostPort on the same protocol, port and address competes with it.
public struct ServicePort: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case nodePort = "node-port"
        case externalIP = "external-ip"
        case loadBalancerIP = "load-balancer-ip"
    }

    public var owner: PortOwner = .kubeProxy
    public var kind: Kind
    public var `protocol`: TransportProtocol
    public var family: IPFamily
    /// The address claimed; nil for a NodePort on every local address (`-m addrtype --dst-type LOCAL`).
    public var address: IPAddress?
    public var port: UInt16
    /// `<namespace>/<name>:<port name>`, from kube-proxy's comment; nil without one.
    public var service: String?
    public var store: RuleStore
    public var table: String
    public var chain: String
    /// Whether kube-proxy's entry (PREROUTING → KUBE-SERVICES, and for NodePorts the jump to
    /// KUBE-NODEPORTS) leads to the rule.
    public var reachable: Bool
    public var rule: String
    /// The priority of the nat chain on the prerouting hook it is reached from.
    public var priority: Int32 = HostPortTable.natDestinationPriority
    /// In a nat table, the position of PREROUTING's jump to KUBE-SERVICES: against a hostPort
    /// in the same table, the one jumped to first answers. nil in nftables.
    public var hookPosition: Int? = nil

    /// Whether a packet to `address` on this port is taken by the Service.
    public func accepts(_ other: IPAddress?) -> Bool {
        guard let address else { return true }
        return other == nil || other == address
    }
}
