import IPTablesLayout
import IPTablesLegacyStore
import PortmapCore
import Snapshots

/// The iptables backend: the Go plugin's nat layout (plus the localnet guard in raw) in an
/// `IPTablesStore`. ADD, CHECK and STATUS work in the store chosen for this network namespace;
/// DEL and GC in every store, so what another binary left in either is found.
public struct IPTablesBackend: PortMapBackend, TableSnapshotReader, Sendable {
    public static let descriptor = BackendDescriptor(kind: .iptables) { IPTablesBackend(environment: $0) }

    let stores: [any IPTablesStore]

    public init(environment: [String: String]) {
        stores = [LegacyStore(environment: environment)]
    }

    /// The store ADD, CHECK and STATUS use.
    var chosen: any IPTablesStore { stores[0] }

    public func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        try chosen.add(Self.plans(request))
    }

    public func check(_ request: PortMapRequest) throws(BackendError) {
        let problems = try chosen.problems(Self.plans(request))
        guard let first = problems.first else { return }
        throw BackendError(.checkFailed, first, details: problems.joined(separator: "; "))
    }

    /// Removes the container in both families (a DEL may come without prevResult).
    public func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
        let teardown = IPTablesPlanner.teardown(network: request.config.name, containerID: request.containerID)
        var warnings: [String] = []
        for store in stores { warnings += try store.delete(teardown) }
        return warnings
    }

    public func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
        let keeping = Set(validAttachments.map(\.containerID))
        var warnings: [String] = []
        for store in stores { warnings += try store.collectGarbage(network: network, keeping: keeping) }
        return warnings
    }

    /// STATUS for a trial container with one TCP and one UDP mapping in each family (the store
    /// checks those the kernel runs).
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
        try chosen.status(plans)
    }

    public func tableSnapshots() throws(BackendError) -> [TableSnapshot] {
        var snapshots: [TableSnapshot] = []
        for store in stores { snapshots += try store.tableSnapshots() }
        return snapshots
    }

    /// The container's plan per family it has an address in, IPv4 first.
    static func plans(_ request: PortMapRequest) -> [IPTablesFamilyPlan] {
        request.containerAddresses.sorted { $0.key < $1.key }.map { _, address in
            IPTablesPlanner.plan(request.config, containerID: request.containerID, container: address)
        }
    }
}
