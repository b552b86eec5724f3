import PortmapCore

/// Something `hostports conflicts` reports: a kind with a stable name (the JSON schema's), what
/// is wrong in words, and what to do about it.
public struct Finding: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The same <hostIP, port, protocol> claimed by two containers: only the first answers.
        case duplicateClaim = "duplicate-claim"
        /// A claim on every address and one on a specific hostIP for the same port and protocol.
        case wildcardOverlap = "wildcard-overlap"
        /// A real socket listens on a hostPort's address and port: the DNAT takes its traffic.
        case shadowedListener = "shadowed-listener"
        /// An entry rule sends a port to a container chain that has no DNAT for it.
        case entryWithoutDNAT = "entry-without-dnat"
        /// A container chain no entry rule jumps to: left behind by a pod that was never DELeted.
        case orphanChain = "orphan-chain"
        /// The pod address of a DNAT does not route to a pod on this node.
        case podUnroutable = "pod-unroutable"
        /// No network namespace on the node holds the pod address: the pod is gone, its rules stayed.
        case podGone = "pod-gone"
        /// The nat table has hostPort rules but PREROUTING or OUTPUT does not lead to them.
        case hookMissing = "hook-missing"
        /// CNI hostPort chains in both iptables stores, or in one while kube-proxy's are in the
        /// other: two rulesets on one hook, whose order decides which DNAT a packet gets.
        case splitStores = "split-stores"
        /// A hostPort on a port kube-proxy takes for a Service (a NodePort, an external or
        /// load-balancer IP) on the same address: one of the two never answers there.
        case servicePortOverlap = "service-port-overlap"
    }

    public var kind: Kind
    public var family: IPFamily
    public var message: String
    public var advice: String
    /// The mappings involved (indices into the inventory's `mappings`).
    public var mappings: [Int]
    /// Chains involved (an orphan chain, an entry rule's target).
    public var chains: [String]
    /// kube-proxy's claims involved (indices into the inventory's `servicePorts`).
    public var servicePorts: [Int]

    public init(
        kind: Kind, family: IPFamily, message: String, advice: String, mappings: [Int] = [], chains: [String] = [], servicePorts: [Int] = []
    ) {
        self.kind = kind
        self.family = family
        self.message = message
        self.advice = advice
        self.mappings = mappings
        self.chains = chains
        self.servicePorts = servicePorts
    }
}
