import IPTablesLayout
import IPTablesLegacyStore
import IPTablesNFTStore
import PortmapCore
import Snapshots

/// The iptables backend: the Go plugin's nat layout (plus the localnet guard in raw) in one of
/// two stores, the legacy x_tables or the nf_tables tables iptables-nft manages. ADD and STATUS
/// work in the store chosen for this network namespace (`StoreChoice`); CHECK passes where either
/// store holds the container; DEL and GC work in both, so what either binary left in either store
/// is found.
public struct IPTablesBackend: PortMapBackend, TableSnapshotReader, Sendable {
    public static let descriptor = BackendDescriptor(kind: .iptables) { IPTablesBackend(environment: $0) }

    let legacy: LegacyStore
    let nft: NFTStore

    public init(environment: [String: String]) {
        legacy = LegacyStore(environment: environment)
        nft = NFTStore(environment: environment)
    }

    var stores: [any IPTablesStore] { [legacy, nft] }

    /// The store for this network namespace: the config's `iptablesStore`, else what the stores
    /// hold and the system's `iptables` tell (`StoreChoice.choose`).
    func choice(_ config: PortMapConfig) -> StoreChoice {
        StoreChoice.choose(
            forced: config.iptablesStore, legacyUsable: legacy.isUsable, legacyInUse: legacy.inUse, legacy: legacy.census, nft: nft.census
        ) { SystemIPTables.variant() }
    }

    func store(_ choice: StoreChoice) -> any IPTablesStore {
        choice.store == .iptablesNFT ? nft : legacy
    }

    public func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        let choice = choice(request.config)
        let warnings = try store(choice).add(Self.plans(request))
        return (choice.splitWarning.map { [$0] } ?? []) + warnings
    }

    /// Passes when the chosen store holds the container as planned, or, failing that, the other
    /// one does (a container added before the node's store changed, or by the other binary on a
    /// split node). The chosen store's problems are the answer otherwise.
    public func check(_ request: PortMapRequest) throws(BackendError) {
        let plans = Self.plans(request)
        let chosen = store(choice(request.config))
        let problems = try chosen.problems(plans)
        guard let first = problems.first else { return }
        if request.config.iptablesStore == nil, let other = stores.first(where: { $0.kind != chosen.kind }), other.isUsable(),
            (try? other.problems(plans))?.isEmpty == true
        {
            return
        }
        throw BackendError(.checkFailed, "\(first) (\(chosen.kind))", details: problems.joined(separator: "; "))
    }

    /// Removes the container in both families of both stores (a DEL may come without prevResult,
    /// and after a switch of binaries either store may hold it). A store the kernel does not offer
    /// held nothing: its failure is not the DEL's.
    public func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
        let teardown = IPTablesPlanner.teardown(network: request.config.name, containerID: request.containerID)
        return try inEveryStore { store throws(BackendError) in try store.delete(teardown) }
    }

    public func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
        let keeping = Set(validAttachments.map(\.containerID))
        return try inEveryStore { store throws(BackendError) in try store.collectGarbage(network: network, keeping: keeping) }
    }

    /// STATUS for a trial container with one TCP and one UDP mapping in each family (the store
    /// checks those the kernel runs), in the store an ADD would use now. Which store that is
    /// matters only when one of them cannot take the ADD: the stores' chains (the choice's
    /// census) are read only then, keeping containerd's poll to /proc and a few netlink requests.
    public func status(_ config: PortMapConfig) throws(BackendError) {
        var trial = config
        trial.portMappings = [
            PortMapping(hostPort: 1, containerPort: 1, protocol: .tcp),
            PortMapping(hostPort: 1, containerPort: 1, protocol: .udp),
        ]
        let plans = IPFamily.allCases.map { family in
            let address = family == .ipv4 ? IPNetwork("192.0.2.2/24")! : IPNetwork("2001:db8::2/64")!
            return IPTablesPlanner.plan(trial, containerID: "status-probe", container: address)
        }
        if config.iptablesStore != nil { return try store(choice(config)).status(plans) }
        var failures: [RuleStore: BackendError] = [:]
        for store in stores {
            do throws(BackendError) { try store.status(plans) } catch { failures[store.kind] = error }
        }
        if failures.isEmpty { return }
        if let failure = failures[choice(config).store] { throw failure }
    }

    /// Both stores' nat tables; a store the kernel does not offer is left out.
    public func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot] {
        var snapshots: [TableSnapshot] = []
        for store in stores where store.isUsable() { snapshots += try store.tableSnapshots(natChains: natChains) }
        return snapshots
    }

    /// The container's plan per family it has an address in, IPv4 first.
    static func plans(_ request: PortMapRequest) -> [IPTablesFamilyPlan] {
        request.containerAddresses.sorted { $0.key < $1.key }.map { _, address in
            IPTablesPlanner.plan(request.config, containerID: request.containerID, container: address)
        }
    }

    /// `work` in each store; the first failure of a usable store is thrown once both were tried.
    private func inEveryStore(_ work: (any IPTablesStore) throws(BackendError) -> [String]) throws(BackendError) -> [String] {
        var warnings: [String] = []
        var failure: BackendError?
        for store in stores {
            do throws(BackendError) {
                warnings += try work(store)
            } catch {
                if store.isUsable() { failure = failure ?? error }
            }
        }
        if let failure { throw failure }
        return warnings
    }
}
