import PortmapCore
import Snapshots

/// One place the Go plugin's iptables layout can live in the kernel: the legacy x_tables
/// (libiptc) or the nf_tables tables iptables-nft manages. The iptables backend picks one per
/// network namespace for ADD, CHECK and STATUS, and runs DEL and GC in every store it can use,
/// so a node can switch binaries either way with pods running.
///
/// Each verb is one atomic commit in the store's unit (a table per family for libiptc, one
/// batch for nf_tables), redone from its read when another writer commits in between. None
/// creates a table it does not need: DEL, GC and the census skip tables that are not there.
package protocol IPTablesStore: Sendable {
    var kind: RuleStore { get }

    /// ADD of one container in each planned family: the raw guard before the nat rules, and
    /// nothing committed when a family's `requiredChains` are missing. Returns warnings.
    func add(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String]

    /// CHECK: what differs from `plans` in the nat tables (a missing table is a problem).
    func problems(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String]

    /// DEL: removes `teardown` from the nat table of every family that has one.
    func delete(_ teardown: IPTablesTeardown) throws(BackendError) -> [String]

    /// GC: removes `network`'s containers not in `keeping`, in every family's nat table.
    func collectGarbage(network: String, keeping: Set<String>) throws(BackendError) -> [String]

    /// STATUS: whether an ADD of `plans` could be served now, without waiting for a lock and
    /// without creating anything.
    func status(_ plans: [IPTablesFamilyPlan]) throws(BackendError)

    /// Whether the kernel offers the store at all, found out cheaply: a DEL or GC that fails in a
    /// store that is not usable had nothing to remove there.
    func isUsable() -> Bool

    /// What the store holds now, for choosing one (`StoreCensus`); read without a lock and
    /// without creating anything.
    func census() -> StoreCensus

    /// Each family's nat table as `hostports` analyses it.
    func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot]
}

/// What a store holds in this network namespace, as the choice of a store reads it.
package struct StoreCensus: Sendable, Equatable {
    /// Whether the kernel offers the store at all (legacy x_tables built in or loadable; nf_tables
    /// answering).
    package var usable: Bool
    /// Whether any `CNI-HOSTPORT-*` chain is in a nat table of the store.
    package var hasPortmapChains: Bool
    /// How many `CNI-DN-` chains its nat tables hold.
    package var containerChains: Int
    /// Whether the node's other iptables users write here: kubelet's `KUBE-IPTABLES-HINT` or
    /// `KUBE-KUBELET-CANARY` in mangle, or `KUBE-*` chains in nat (what kube-proxy's own mode
    /// detection reads).
    package var hasKubernetesChains: Bool
    /// Whether the store has a nat or mangle table at all, with or without chains.
    package var hasTables: Bool

    package init(
        usable: Bool, hasPortmapChains: Bool = false, containerChains: Int = 0, hasKubernetesChains: Bool = false, hasTables: Bool? = nil
    ) {
        self.usable = usable
        self.hasPortmapChains = hasPortmapChains
        self.containerChains = containerChains
        self.hasKubernetesChains = hasKubernetesChains
        self.hasTables = hasTables ?? (hasPortmapChains || hasKubernetesChains)
    }
}

extension StoreCensus {
    /// Counts what the chains of one table (`nat`, `mangle`) of one family tell.
    package mutating func record(table: String, chains: some Sequence<String>) {
        for chain in chains {
            if table == "nat" || table == "mangle" { hasTables = true }
            switch table {
            case "nat":
                if chain.hasPrefix("CNI-HOSTPORT-") { hasPortmapChains = true }
                if chain.hasPrefix("CNI-DN-") { containerChains += 1 }
                if chain.hasPrefix("KUBE-") { hasKubernetesChains = true }
            case "mangle":
                if chain == "KUBE-IPTABLES-HINT" || chain == "KUBE-KUBELET-CANARY" { hasKubernetesChains = true }
            default:
                break
            }
        }
    }
}
