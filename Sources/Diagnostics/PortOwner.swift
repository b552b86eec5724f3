/// Who wrote a port-forwarding rule. A node often has several: the CNI portmap (in any of its
/// stores), a runtime's own hostport manager, Docker, kube-proxy; `hostports` names the owner of
/// every row so a port taken by one of them is not blamed on another.
public enum PortOwner: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The CNI portmap plugin, this one or the Go one (the same layouts), in any store.
    case cniPortmap = "cni-portmap"
    /// CRI-O's hostport manager (kubelet's former one): `KUBE-HOSTPORTS` → `KUBE-HP-<hash>`.
    case crio = "cri-o"
    /// podman's netavark: `NETAVARK-HOSTPORT-DNAT` → `NETAVARK-DN-<hash>`, one chain per network.
    case netavark
    /// Docker's bridge driver: DNATs in the `DOCKER` chain, no owner comment.
    case docker
    /// kube-proxy's NodePorts, external and load-balancer IPs: claims on node ports, not hostPorts.
    case kubeProxy = "kube-proxy"
    /// An nftables table no known forwarder keeps, DNATing node ports: listed under its name.
    case unattributed

    public var description: String { rawValue }

    /// The process that holds the mapped port's socket by design (to reserve it, or to proxy
    /// traffic the DNAT does not see), which is therefore not a shadowed listener.
    var portHolder: String? {
        switch self {
        case .docker: "docker-proxy"
        case .crio: "crio"
        case .netavark: "conmon"
        case .cniPortmap, .kubeProxy, .unattributed: nil
        }
    }
}
