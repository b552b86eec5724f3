import IPTablesLayout
import IPTablesLegacyStore
import IPTablesNFTStore
import PortmapCore
import Snapshots

/// The iptables backend: the Go plugin's nat layout (plus the localnet guard in raw) in one of
/// two stores, the legacy x_tables or the nf_tables tables iptables-nft manages. ADD, CHECK and
/// STATUS work in the config's `iptablesStore`; DEL and GC in both, so what either binary left in
/// either store is found.
public struct IPTablesBackend: PortMapBackend, TableSnapshotReader, Sendable {
    public static let descriptor = BackendDescriptor(kind: .iptables) { IPTablesBackend(environment: $0) }

    let legacy: LegacyStore
    let nft: NFTStore

    public init(environment: [String: String]) {
        legacy = LegacyStore(environment: environment)
        nft = NFTStore()
    }

    var stores: [any IPTablesStore] { [legacy, nft] }

    /// The store ADD, CHECK and STATUS use: the config's `iptablesStore`, else the legacy
    /// x_tables.
    func chosen(_ config: PortMapConfig) -> any IPTablesStore {
        config.iptablesStore == .nft ? nft : legacy
    }

    public func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        try chosen(request.config).add(Self.plans(request))
    }

    public func check(_ request: PortMapRequest) throws(BackendError) {
        let problems = try chosen(request.config).problems(Self.plans(request))
        guard let first = problems.first else { return }
        throw BackendError(.checkFailed, first, details: problems.joined(separator: "; "))
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
    /// checks those the kernel runs), in the store an ADD would use now.
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
        try chosen(config).status(plans)
    }

    /// Both stores' nat tables; a store the kernel does not offer is left out.
    public func tableSnapshots() throws(BackendError) -> [TableSnapshot] {
        var snapshots: [TableSnapshot] = []
        for store in stores where store.isUsable() { snapshots += try store.tableSnapshots() }
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
