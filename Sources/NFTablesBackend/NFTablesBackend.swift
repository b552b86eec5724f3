import Netlink
import NodeLock
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The nftables backend: per family one table the plugin owns (`NFTablesLayout`), shared by every
/// container, which owns only elements of its sets. Beside it, the previous table (named as
/// upstream's is) may hold the plugin's old elements and upstream's rules, which DEL takes over. Each verb that writes is one nf_tables batch
/// covering both families, applied whole or not at all, under the plugin's lock
/// (`NFTablesLock`) and against the generation it read, so that a batch planned from a ruleset
/// another writer has changed since is refused by the kernel and planned again. STATUS is in
/// `NFTablesBackend+Status.swift`, the diagnostics read in `NFTablesBackend+Snapshot.swift`.
public struct NFTablesBackend: PortMapBackend {
    public static let descriptor = BackendDescriptor(kind: .nftables) { NFTablesBackend(environment: $0) }

    let lockPath: String
    let lockTimeoutMilliseconds: Int
    let openSocket: () throws(HostNetworkError) -> NetfilterSocket

    /// `PORTMAP_NFTABLES_LOCKFILE` moves the lock.
    public init(environment: [String: String], lockTimeoutMilliseconds: Int = 5_000) {
        self.init(
            lockPath: NFTablesLock.path(environment),
            lockTimeoutMilliseconds: lockTimeoutMilliseconds,
            openSocket: { () throws(HostNetworkError) in try NetfilterSocket() })
    }

    /// The socket injected, for tests.
    init(lockPath: String, lockTimeoutMilliseconds: Int, openSocket: @escaping () throws(HostNetworkError) -> NetfilterSocket) {
        self.lockPath = lockPath
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
        self.openSocket = openSocket
    }

    /// Creates the table of each family the container has an address in if it is missing, adds
    /// its planned elements, and, if it was added before, removes its stale ones (in both
    /// families); refuses, sending nothing, when another container owns one of its DNAT keys. A
    /// re-ADD that changes nothing sends no batch.
    ///
    /// Reads only what is under the planned keys, so that ADD costs the same beside a thousand
    /// containers as on an empty node; every element only when that is not enough
    /// (`ElementChanges.lookupSuffices`, `TableReader.lookUp`): mainly, when an element under a
    /// planned key is already this container's. A re-ADD that shares no key with the container's
    /// earlier ADD therefore leaves the earlier elements until DEL or GC (a runtime DELs before
    /// it ADDs again). An element being expired under a planned key (a DEL of its container
    /// within the last tick) is waited for, as for a racing writer.
    public func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        var plans: [IPFamily: [NFTablesElement]] = [:]
        for (family, address) in request.containerAddresses {
            plans[family] = NFTablesPlanner.plan(request.config, containerID: request.containerID, container: address).elements
        }
        guard !plans.isEmpty else { return [] }
        let owner = NFTablesPlanner.owner(network: request.config.name, containerID: request.containerID)
        return try NFTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            try transact { reader throws(BackendError) in
                // What each existing table holds that ADD must know of.
                var current: [IPFamily: [NFTablesElement]] = [:]
                for family in IPFamily.allCases where try reader.tableExists(family) { current[family] = [] }
                let lookup = try reader.lookUp(plans.filter { current[$0.key] != nil })
                if lookup?.expiring == true { return .retry("an element under a planned key is being expired") }
                if let found = lookup?.found, ElementChanges.lookupSuffices(planned: plans, found: found, owner: owner) {
                    for (family, answers) in found { current[family] = answers.compactMap { $0 } }
                } else {
                    for family in current.keys { current[family] = try reader.elements(family) }
                }
                var batch = BatchBuilder()
                for family in IPFamily.allCases {
                    let planned = plans[family]
                    guard let elements = current[family] else {
                        if let planned {
                            batch.createTable(family)
                            batch.apply(ElementChanges(additions: planned), family: family)
                        }
                        continue
                    }
                    let changes = ElementChanges.add(planned ?? [], owner: owner, current: elements)
                    if let first = changes.conflicts.first {
                        throw BackendError(
                            .invalidConfig, "\(first); the nftables backend maps a port to one container only",
                            details: changes.conflicts.map(\.description).joined(separator: "; "))
                    }
                    batch.apply(changes, family: family)
                }
                try Self.clearPrevious(reader, &batch, owners: { $0 == owner }, upstreamContainer: nil) {
                    ElementChanges.removal(of: owner, from: $0)
                }
                return .send(batch)
            }
            // A batch is committed whole or not at all: nothing to warn of.
            return []
        }
    }

    /// Reads without the lock, as the iptables backend does: CHECK must not queue behind writers.
    /// It looks up the planned keys (its cost does not grow with the pods): elements the
    /// container may hold under other keys (an earlier ADD with other mappings) are GC's, and
    /// `hostports` lists them.
    public func check(_ request: PortMapRequest) throws(BackendError) {
        let reader = TableReader(socket: try open())
        let owner = NFTablesPlanner.owner(network: request.config.name, containerID: request.containerID)
        var problems: [String] = []
        for (family, address) in request.containerAddresses.sorted(by: { $0.key < $1.key }) {
            let plan = NFTablesPlanner.plan(request.config, containerID: request.containerID, container: address)
            problems += TableCheck.problems(plan, owner: owner, in: try reader.contents(family, only: plan.elements))
        }
        guard let first = problems.first else { return }
        throw BackendError(.checkFailed, first, details: problems.joined(separator: "; "))
    }

    /// Removes the container's elements from both families' tables, expiring them
    /// (`ElementExpiry`), and in the previous table its old elements and upstream's rules
    /// commented with its container ID (a takeover); a missing table is skipped, never created.
    /// With prevResult it looks up the keys it plans, as ADD does, so that its cost does not grow
    /// with the pods, and reads every element only when those are not all the container's (a
    /// DEL without prevResult, or a container ADDed again with other mappings or addresses).
    public func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
        let owner = NFTablesPlanner.owner(network: request.config.name, containerID: request.containerID)
        var plans: [IPFamily: [NFTablesElement]] = [:]
        for (family, address) in request.containerAddresses {
            plans[family] = NFTablesPlanner.plan(request.config, containerID: request.containerID, container: address).elements
        }
        return try NFTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            try remove(owners: { $0 == owner }, planned: plans.isEmpty ? nil : (plans, owner), upstreamContainer: request.containerID) {
                ElementChanges.removal(of: owner, from: $0)
            }
            return []
        }
    }

    /// Removes, from both families in one batch, the elements of `network`'s containers that are
    /// not in `validAttachments` (`ElementChanges.garbage`), in the plugin's table and the
    /// previous one, creating no table. Upstream's rules are left alone: their comment is a bare
    /// container ID, which names no network, so another network's containers cannot be told
    /// apart.
    public func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
        let keeping = Set(validAttachments.map(\.containerID))
        let owners = ElementChanges.isGarbage(network: network, keeping: keeping)
        return try NFTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            try remove(owners: owners, planned: nil, upstreamContainer: nil) { ElementChanges.garbage(of: network, keeping: keeping, from: $0) }
            return []
        }
    }

    /// DEL and GC: one batch that expires `changes`' deletions of the elements whose owner `owners`
    /// accepts in each family's table that exists, with the previous table's (`clearPrevious`).
    /// The elements are those under `planned`'s keys where the lookup finds every one of them
    /// its owner's (`ElementChanges.heldByOwner`), else those a dump of each table finds
    /// (decoding only the ones `owners` accepts, not the thousands of other pods'). Then the
    /// expired elements are looked up again: a kernel that ignored the expiration (before 6.12),
    /// or refused it, gets a second batch deleting them.
    private func remove(
        owners: @escaping (String) -> Bool, planned: (elements: [IPFamily: [NFTablesElement]], owner: String)?, upstreamContainer: String?,
        _ changes: @escaping ([NFTablesElement]) -> ElementChanges
    ) throws(BackendError) {
        let reader = TableReader(socket: try open())
        var expired: [IPFamily: [NFTablesElement]] = [:]
        var refused = false
        try transact(on: reader) { reader throws(BackendError) in
            var batch = BatchBuilder()
            expired = [:]
            var tables: [IPFamily] = []
            for family in IPFamily.allCases where try reader.tableExists(family) { tables.append(family) }
            var byKey: [IPFamily: [NFTablesElement]]?
            if let planned {
                let asked = planned.elements.filter { tables.contains($0.key) }
                if let lookup = try reader.lookUp(asked), !lookup.expiring {
                    byKey = ElementChanges.heldByOwner(planned: asked, found: lookup.found, owner: planned.owner)
                }
            }
            for family in tables {
                if let byKey {
                    expired[family] = byKey[family] ?? []
                } else {
                    expired[family] = changes(try reader.elements(family, owners: owners)).deletions
                }
                batch.expire(expired[family]!, family: family)
            }
            try Self.clearPrevious(reader, &batch, owners: owners, upstreamContainer: upstreamContainer, changes)
            return .send(batch)
        } refused: { _ in
            refused = true
        }
        let stuck: [IPFamily: [NFTablesElement]]
        if refused {
            stuck = expired
        } else {
            stuck = try Self.notExpiring(expired, reader: reader)
        }
        guard stuck.values.contains(where: { !$0.isEmpty }) else { return }
        try transact(on: reader) { reader throws(BackendError) in
            var batch = BatchBuilder()
            for family in IPFamily.allCases where try reader.tableExists(family) {
                batch.apply(changes(try reader.elements(family, owners: owners)), family: family)
            }
            if refused { try Self.clearPrevious(reader, &batch, owners: owners, upstreamContainer: upstreamContainer, changes) }
            return .send(batch)
        }
    }

    /// Those of `expired` the kernel still holds without an expiration: it ignored the update.
    private static func notExpiring(_ expired: [IPFamily: [NFTablesElement]], reader: TableReader) throws(BackendError) -> [IPFamily: [NFTablesElement]] {
        guard expired.values.contains(where: { !$0.isEmpty }), let lookup = try reader.lookUp(expired) else { return expired }
        var stuck: [IPFamily: [NFTablesElement]] = [:]
        for (family, answers) in lookup.found {
            stuck[family] = zip(expired[family] ?? [], answers).compactMap { element, held in held == element ? element : nil }
        }
        return stuck
    }

    /// Adds to `batch` what a verb removes from the previous table (`NFTablesLayout.previousTable`)
    /// of each family that has one: `changes` of the plugin's old elements whose owner `owners`
    /// accepts, where the table has the plugin's sets, and with `upstreamContainer` upstream's
    /// rules commented with that container ID. Its chains, sets and table stay.
    private static func clearPrevious(
        _ reader: TableReader, _ batch: inout BatchBuilder, owners: (String) -> Bool, upstreamContainer: String?,
        _ changes: ([NFTablesElement]) -> ElementChanges
    ) throws(BackendError) {
        let table = NFTablesLayout.previousTable
        for family in IPFamily.allCases where try reader.tableExists(family, table) {
            let sets = try reader.sets(family, table)
            if !sets.isEmpty {
                batch.apply(changes(try reader.elements(family, in: sets, table: table, owners: owners)), family: family, table: table)
            }
            if let upstreamContainer {
                batch.delete(try reader.upstreamRules(family, containerID: upstreamContainer), family: family)
            }
        }
    }

    /// What a verb's read comes to: a batch to send, or a reason to read again after a back-off.
    enum Planned {
        case send(BatchBuilder)
        case retry(String)
    }

    /// Reads the generation, plans a batch from what `plan` reads, and commits it; redone while
    /// another writer commits in between (the kernel answers ERESTART) or `plan` asks to, for
    /// `CommitRetry`'s budget. An empty batch is not sent. A batch the kernel refuses is thrown,
    /// or with `refused` handed to it instead.
    func transact(
        on given: TableReader? = nil, _ plan: (TableReader) throws(BackendError) -> Planned, refused: ((BackendError) -> Void)? = nil
    ) throws(BackendError) {
        let reader: TableReader
        if let given { reader = given } else { reader = TableReader(socket: try open()) }
        let socket = reader.socket
        try CommitRetry.run(
            { () throws(BackendError) -> CommitAttempt<Void> in
                let generation = try reader.generation()
                let batch: BatchBuilder
                switch try plan(reader) {
                case .send(let planned): batch = planned
                case .retry(let reason): return .lostRace(reason)
                }
                guard !batch.isEmpty else { return .committed(()) }
                let outcome: NetfilterBatchOutcome
                do {
                    outcome = try socket.send(NetfilterBatch(generation: generation, messages: batch.messages))
                } catch {
                    throw BackendError(.kernel, "nftables: \(error)")
                }
                switch outcome {
                case .accepted:
                    return .committed(())
                case .refused(let failures):
                    guard let refused else { throw batch.refusal(failures) }
                    refused(batch.refusal(failures))
                    return .committed(())
                case .generationChanged:
                    return .lostRace("the ruleset generation changed")
                }
            },
            busy: { race, attempts in
                BackendError(
                    .busy, "the nftables ruleset changed before each of \(attempts) batches in \(CommitRetry.budgetMilliseconds) ms could be applied",
                    details: "last: \(race); another program keeps committing nftables changes; retry later")
            })
    }

    func open() throws(BackendError) -> NetfilterSocket {
        do {
            return try openSocket()
        } catch {
            throw BackendError(.kernel, "nftables: \(error)")
        }
    }
}
