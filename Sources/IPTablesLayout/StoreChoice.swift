import PortmapCore
import Snapshots

/// Which store the iptables backend writes to in a network namespace, and why: the rule an
/// operator reads in the README, as one pure function of what the stores hold, so each case is
/// tested without a kernel.
package struct StoreChoice: Sendable, Equatable {
    /// Why `store` was chosen, in the order the rules are tried.
    package enum Reason: Sendable, Equatable {
        /// The config's `iptablesStore`.
        case forced
        /// The kernel has no legacy x_tables: iptables-nft is the only store.
        case noLegacyXTables
        /// nf_tables does not answer: the legacy x_tables are the only store.
        case noNFTables
        /// `CNI-HOSTPORT-*` chains are in this store only.
        case portmapChains
        /// `CNI-HOSTPORT-*` chains are in both stores: this one has more `CNI-DN-` chains (on a tie,
        /// the system's `iptables` decides). The counts are the legacy and the iptables-nft store's.
        case splitPortmapChains(legacy: Int, nft: Int)
        /// Kubelet's or kube-proxy's chains are in this store only.
        case kubernetesChains
        /// The legacy x_tables hold a nat or mangle table and iptables-nft has none: the node's
        /// iptables is legacy.
        case legacyTablesInUse
        /// The system's `iptables` command is this store's variant (or, when it cannot be told,
        /// iptables-nft, the default of current distributions).
        case systemIPTables
    }

    package var store: RuleStore
    package var reason: Reason

    package init(store: RuleStore, reason: Reason) {
        self.store = store
        self.reason = reason
    }

    /// The store for this namespace: `forced` when the config names one; else the only usable
    /// store when one is not (no legacy x_tables, or no nf_tables); else where the Go plugin's
    /// chains already are; else where the node's Kubernetes components write; else the system's
    /// `iptables`. Each probe is asked only as far as a rule needs it, cheapest first: the legacy
    /// census reads whole tables through libiptc, so it is read only where the legacy x_tables
    /// hold a table (`legacyInUse`, from /proc) and so does iptables-nft; legacy tables with no
    /// iptables-nft table beside them are the node's iptables.
    package static func choose(
        forced: IPTablesStoreName?, legacyUsable: () -> Bool, legacyInUse: () -> Bool, legacy readLegacy: () -> StoreCensus,
        nft: () -> StoreCensus, systemIPTables: () -> IPTablesStoreName?
    ) -> StoreChoice {
        if let forced { return StoreChoice(store: forced.ruleStore, reason: .forced) }
        guard legacyUsable() else { return StoreChoice(store: .iptablesNFT, reason: .noLegacyXTables) }
        let nft = nft()
        guard nft.usable else { return StoreChoice(store: .iptablesLegacy, reason: .noNFTables) }
        let legacy: StoreCensus
        if !legacyInUse() {
            legacy = StoreCensus(usable: true)
        } else if !nft.hasTables {
            return StoreChoice(store: .iptablesLegacy, reason: .legacyTablesInUse)
        } else {
            legacy = readLegacy()
        }
        let systemStore = (systemIPTables() ?? .nft).ruleStore
        switch (legacy.hasPortmapChains, nft.hasPortmapChains) {
        case (true, false): return StoreChoice(store: .iptablesLegacy, reason: .portmapChains)
        case (false, true): return StoreChoice(store: .iptablesNFT, reason: .portmapChains)
        case (true, true):
            let counts = Reason.splitPortmapChains(legacy: legacy.containerChains, nft: nft.containerChains)
            if legacy.containerChains == nft.containerChains { return StoreChoice(store: systemStore, reason: counts) }
            return StoreChoice(store: legacy.containerChains > nft.containerChains ? .iptablesLegacy : .iptablesNFT, reason: counts)
        case (false, false): break
        }
        switch (legacy.hasKubernetesChains, nft.hasKubernetesChains) {
        case (true, false): return StoreChoice(store: .iptablesLegacy, reason: .kubernetesChains)
        case (false, true): return StoreChoice(store: .iptablesNFT, reason: .kubernetesChains)
        default: return StoreChoice(store: systemStore, reason: .systemIPTables)
        }
    }

    /// The operator's warning for a node whose CNI chains are split over both stores; nil otherwise.
    package var splitWarning: String? {
        guard case .splitPortmapChains(let legacy, let nft) = reason else { return nil }
        return "CNI-HOSTPORT chains are in both iptables stores (\(legacy) CNI-DN- chains in iptables-legacy, \(nft) in "
            + "iptables-nft): the node's hostPorts are split, writing to \(store); `hostports conflicts` lists them"
    }
}

extension IPTablesStoreName {
    /// The store of this name, as snapshots and `hostports` name it.
    package var ruleStore: RuleStore {
        switch self {
        case .legacy: .iptablesLegacy
        case .nft: .iptablesNFT
        }
    }
}
