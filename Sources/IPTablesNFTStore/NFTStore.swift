import IPTablesLayout
import Netlink
import Nftnl
import NodeLock
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The layout in the nf_tables tables iptables-nft manages (`ip nat`, `ip6 nat`, `ip raw`),
/// written as iptables-nft 1.8.9 writes it (`RuleExpressions`), so that `iptables-save` on a node
/// whose `iptables` is iptables-nft lists our rules as the Go plugin's, and either binary removes
/// the other's. Each writing verb is one nf_tables batch for both families and tables, bound to
/// the ruleset generation it read: another writer committing in between (kube-proxy, iptables-nft
/// itself, which takes no lock) makes the kernel refuse it whole, and the verb is redone from its
/// read (`CommitRetry`). The plugin's own instances queue on its nf_tables lock (`NFTablesLock`)
/// from read to answer, so they never make each other redo a verb.
package struct NFTStore: IPTablesStore {
    package var kind: RuleStore { .iptablesNFT }
    let lockPath: String
    let lockTimeoutMilliseconds: Int

    /// `PORTMAP_NFTABLES_LOCKFILE` moves the lock.
    package init(environment: [String: String], lockTimeoutMilliseconds: Int = 5_000) {
        lockPath = NFTablesLock.path(environment)
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
    }

    package func add(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String] {
        guard !plans.isEmpty else { return [] }
        return try transact { session throws(BackendError) in
            // A refusal before any edit: the batch would not go out anyway, but the message
            // names the family whose chain is missing.
            for plan in plans where !plan.requiredChains.isEmpty {
                try ChainReconciler.require(plan.requiredChains, in: try session.table(plan.family, "nat"))
            }
            for plan in plans {
                if !plan.rawChains.isEmpty { _ = try ChainReconciler.apply(plan.rawChains, to: try session.table(plan.family, "raw")) }
                _ = try ChainReconciler.apply(plan, to: try session.table(plan.family, "nat"))
            }
        }
    }

    package func problems(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String] {
        try reading { reader throws(BackendError) in
            var problems: [String] = []
            for plan in plans {
                let session = Session(reader: reader)
                guard try session.exists(plan.family, "nat") else {
                    problems.append("\(ChainReconciler.label("nat", family: plan.family)) (iptables-nft): the table does not exist")
                    continue
                }
                problems += try ChainReconciler.problems(plan, in: try session.table(plan.family, "nat"))
            }
            return problems
        }
    }

    package func delete(_ teardown: IPTablesTeardown) throws(BackendError) -> [String] {
        try transact { session throws(BackendError) in
            for family in IPFamily.allCases where try session.exists(family, "nat") {
                _ = try ChainReconciler.remove(teardown, from: try session.table(family, "nat"))
            }
        }
    }

    /// A family that fails does not stop the other: what the other removes is committed, then the
    /// first failure is thrown.
    package func collectGarbage(network: String, keeping: Set<String>) throws(BackendError) -> [String] {
        var failure: BackendError?
        let warnings = try transact { session throws(BackendError) in
            failure = nil
            for family in IPFamily.allCases where try session.exists(family, "nat") {
                do throws(BackendError) {
                    _ = try ChainReconciler.collectGarbage(network: network, keeping: keeping, from: try session.table(family, "nat"))
                } catch {
                    failure = failure ?? error
                }
            }
        }
        if let failure { throw failure }
        return warnings
    }

    package func tableSnapshots(natChains: NatChainSelection) throws(BackendError) -> [TableSnapshot] {
        try reading { reader throws(BackendError) in
            // Which families have the table, and each one's chains in save order.
            var tables: [(family: IPFamily, chains: [String])?] = []
            for family in Self.families {
                guard try Session(reader: reader).exists(family, "nat") else {
                    tables.append(nil)
                    continue
                }
                do throws(RuleTableError) {
                    tables.append((family, Self.saveOrder(try reader.chains(family).filter { $0.table == "nat" }.map(\.name))))
                } catch {
                    throw BackendError(.kernel, error.description)
                }
            }
            // One dump per chain asked for (a dump of the whole table would fill and send every
            // rule, kube-proxy's too, and the kernel walks the table again from its start for
            // each 32 KiB of it). The dumps are round trips, thousands at a thousand pods: they
            // are shared between sockets, each on a thread of its own. `reading` checks the
            // generation around all of it.
            let wanted = tables.compactMap { $0 }.flatMap { table in table.chains.filter(natChains.contains).map { (table.family, $0) } }
            let shares = min(Self.readingSockets, max(1, wanted.count / 256))
            let parts = (0..<shares).map { share in stride(from: share, to: wanted.count, by: shares).map { wanted[$0] } }
            let read = try ConcurrentFamilies.run(parts) { part throws(BackendError) in
                let own = NFTReader(socket: try open())
                var rules: [String: [IPTablesRule]] = [:]
                do throws(RuleTableError) {
                    for (family, chain) in part {
                        rules["\(family) \(chain)"] = try own.rules(in: chain, table: "nat", family: family).map {
                            RuleExpressions.decode($0.expressions, family: family)
                        }
                    }
                } catch {
                    throw BackendError(.kernel, error.description)
                }
                return rules
            }
            let rules = read.reduce(into: [String: [IPTablesRule]]()) { all, part in all.merge(part) { first, _ in first } }
            return zip(Self.families, tables).map { family, table in
                guard let table else { return .nat(NatTableSnapshot(family: family, store: .iptablesNFT, exists: false)) }
                let chains = table.chains.map { name in
                    rules["\(family) \(name)"].map { NatTableSnapshot.Chain(name: name, rules: $0) }
                        ?? NatTableSnapshot.Chain(name: name, rules: [], rulesRead: false)
                }
                return .nat(NatTableSnapshot(family: family, store: .iptablesNFT, exists: true, chains: chains))
            }
        }
    }

    /// How many sockets a snapshot's chain dumps are shared between.
    static let readingSockets = 4

    /// The families the kernel runs: IPv4 always, IPv6 unless it is disabled or not built.
    static var families: [IPFamily] {
        access("/proc/net/if_inet6", F_OK) == 0 ? [.ipv4, .ipv6] : [.ipv4]
    }

    /// Chains as `iptables-nft-save` lists them: the base chains in hook order, then the others
    /// in the kernel's (creation) order.
    static func saveOrder(_ names: [String]) -> [String] {
        let base = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"].filter(names.contains)
        return base + names.filter { !base.contains($0) }
    }

    // MARK: - Transactions

    /// The tables one attempt of a verb works on, each read and edited through one batch.
    final class Session {
        let reader: NFTReader
        let batch = NFTBatch()
        private var tables: [String: NFTRuleTable] = [:]
        private var existing: [String: Bool] = [:]

        init(reader: NFTReader) {
            self.reader = reader
        }

        /// Whether the kernel has the table (DEL, GC and CHECK do not create one).
        func exists(_ family: IPFamily, _ name: String) throws(BackendError) -> Bool {
            let key = "\(family) \(name)"
            if let known = existing[key] { return known }
            do throws(RuleTableError) {
                let known = try reader.tableExists(name, family: family)
                existing[key] = known
                return known
            } catch {
                throw BackendError(.kernel, error.description)
            }
        }

        func table(_ family: IPFamily, _ name: String) throws(BackendError) -> NFTRuleTable {
            let key = "\(family) \(name)"
            if let table = tables[key] { return table }
            do throws(RuleTableError) {
                let table = try NFTRuleTable(family: family, name: name, reader: reader, batch: batch)
                tables[key] = table
                return table
            } catch {
                throw BackendError(.kernel, error.description)
            }
        }
    }

    /// One read-edit-commit cycle: `edit` reads through a fresh session and puts its changes in
    /// the session's batch, which goes out bound to the generation read first; redone from the
    /// read while another writer commits in between, for `CommitRetry`'s budget, holding the
    /// plugin's nf_tables lock throughout. Nothing to change, nothing sent.
    func transact(_ edit: (Session) throws(BackendError) -> Void) throws(BackendError) -> [String] {
        let socket = try open()
        let reader = NFTReader(socket: socket)
        return try NFTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            try CommitRetry.run(
                { () throws(BackendError) -> CommitAttempt<[String]> in
                    let generation = try Self.generation(reader)
                    let session = Session(reader: reader)
                    try edit(session)
                    guard !session.batch.isEmpty else { return .committed([]) }
                    let outcome: NetfilterBatchOutcome
                    do {
                        outcome = try socket.send(NetfilterBatch(generation: generation, messages: session.batch.messages))
                    } catch {
                        throw BackendError(.kernel, "iptables-nft tables: \(error)")
                    }
                    switch outcome {
                    case .accepted: return .committed([])
                    case .refused(let failures): throw session.batch.refusal(failures)
                    case .generationChanged: return .lostRace("the ruleset generation changed")
                    }
                },
                busy: { _, attempts in
                    BackendError(
                        .busy, "the nf_tables ruleset changed before each of \(attempts) batches in \(CommitRetry.budgetMilliseconds) ms could be applied",
                        details: "another program keeps committing nf_tables changes (kube-proxy, iptables-nft); retry later")
                })
        }
    }

    /// A read-only verb: `read` again when the ruleset's generation moved while it read, so what
    /// it reports is one state of the tables, as iptables-nft-save does.
    func reading<Value>(_ read: (NFTReader) throws(BackendError) -> Value) throws(BackendError) -> Value {
        let reader = NFTReader(socket: try open())
        var retry = CommitRetry()
        while true {
            let before = try Self.generation(reader)
            let value = try read(reader)
            if try Self.generation(reader) == before { return value }
            guard retry.backOff() else {
                throw BackendError(.busy, "the nf_tables ruleset kept changing while it was read", details: "retry later")
            }
        }
    }

    func open() throws(BackendError) -> NetfilterSocket {
        do {
            return try NetfilterSocket()
        } catch {
            throw BackendError(.kernel, "iptables-nft tables: \(error)")
        }
    }

    static func generation(_ reader: NFTReader) throws(BackendError) -> UInt32 {
        do {
            return try reader.generation()
        } catch {
            throw BackendError(.kernel, error.description)
        }
    }
}
