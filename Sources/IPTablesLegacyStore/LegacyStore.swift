import IPTablesLayout
import NodeLock
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The layout in the legacy x_tables, written through libiptc with one commit per table per
/// verb, under the xtables lock (`XTABLES_LOCKFILE` moves it, as for iptables itself); the two
/// families' tables are worked on at the same time (`ConcurrentFamilies`). STATUS, which commits
/// nothing here, is in `LegacyStore+Status.swift`.
package struct LegacyStore: IPTablesStore {
    package var kind: RuleStore { .iptablesLegacy }

    let lockPath: String
    let lockTimeoutMilliseconds: Int

    package init(environment: [String: String], lockTimeoutMilliseconds: Int = 5_000) {
        lockPath = XTablesLock.path(environment)
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
    }

    package func add(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String] {
        guard !plans.isEmpty else { return [] }
        return try XTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            // A refusal comes before any family commits: with the chains named in one family only,
            // the other must not be left half added. Each commit checks again (a writer outside the
            // lock may remove a chain in between).
            for plan in plans where !plan.requiredChains.isEmpty {
                try ChainReconciler.require(plan.requiredChains, in: KernelRuleTable(try open(plan.family, "nat")))
            }
            let warnings = try ConcurrentFamilies.run(plans) { plan throws(BackendError) in
                // The guard first: a DNAT must never be live without it.
                let raw =
                    plan.rawChains.isEmpty
                    ? []
                    : try transact(plan.family, "raw") { table throws(BackendError) in
                        try ChainReconciler.apply(plan.rawChains, to: table)
                    }
                return try raw + transact(plan.family, "nat") { table throws(BackendError) in try ChainReconciler.apply(plan, to: table) }
            }
            return warnings.flatMap { $0 }
        }
    }

    /// Reads without the lock: libiptc's snapshot is consistent, and CHECK must not queue behind
    /// writers or fail with "try again" when nothing is wrong.
    package func problems(_ plans: [IPTablesFamilyPlan]) throws(BackendError) -> [String] {
        var problems: [String] = []
        for plan in plans {
            // The nat table only: the localnet guard is node hardening, not the container's
            // connectivity, and pods the Go plugin added on this node never had it.
            guard KernelTables.exists("nat", family: plan.family) else {
                problems.append("\(ChainReconciler.label("nat", family: plan.family)): the table does not exist")
                continue
            }
            problems += try ChainReconciler.problems(plan, in: KernelRuleTable(try open(plan.family, "nat")))
        }
        return problems
    }

    /// Removes the container in both families (a DEL may come without prevResult), skipping
    /// tables that do not exist rather than creating them.
    package func delete(_ teardown: IPTablesTeardown) throws(BackendError) -> [String] {
        let families = IPFamily.allCases.filter { KernelTables.exists("nat", family: $0) }
        guard !families.isEmpty else { return [] }
        return try XTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            let warnings = try ConcurrentFamilies.run(families) { family throws(BackendError) in
                try transact(family, "nat") { table throws(BackendError) in try ChainReconciler.remove(teardown, from: table) }
            }
            return warnings.flatMap { $0 }
        }
    }

    /// Removes the containers of `network` not in `keeping` from both families' nat tables (see
    /// `IPTablesPlanner.garbage` for what is recognized as theirs), one commit per table under the
    /// lock, creating no table. A family that fails does not stop the other; the first failure is
    /// thrown after both were tried.
    package func collectGarbage(network: String, keeping: Set<String>) throws(BackendError) -> [String] {
        let families = IPFamily.allCases.filter { KernelTables.exists("nat", family: $0) }
        guard !families.isEmpty else { return [] }
        return try XTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) { () throws(BackendError) in
            let warnings = try ConcurrentFamilies.run(families) { family throws(BackendError) in
                try transact(family, "nat") { table throws(BackendError) in
                    try ChainReconciler.collectGarbage(network: network, keeping: keeping, from: table)
                }
            }
            return warnings.flatMap { $0 }
        }
    }

    /// One read-edit-commit cycle on `table` of `family`, redone while another writer commits in
    /// between (EAGAIN), for `CommitRetry`'s budget. `edit` returns whether it changed anything;
    /// nothing changed, no commit. Returns the warnings of a commit that went in but reported a
    /// failure.
    func transact(
        _ family: IPFamily, _ table: String,
        _ edit: (KernelRuleTable) throws(BackendError) -> Bool
    ) throws(BackendError) -> [String] {
        try CommitRetry.run(
            { () throws(BackendError) -> CommitAttempt<[String]> in
                let handle = try open(family, table)
                guard try edit(KernelRuleTable(handle)) else { return .committed([]) }
                do throws(RuleTableError) {
                    try handle.commit()
                    return .committed([])
                } catch let error where error.isConcurrentModification {
                    return .lostRace(error.description)
                } catch {
                    // libiptc's commit is the table replace, then the restore of the old rules'
                    // counters, which fails (EINVAL) when another writer replaced the table in between:
                    // the change is in. Read back: an edit left with nothing to do means it is.
                    guard try !edit(KernelRuleTable(try open(family, table))) else {
                        throw BackendError(.kernel, error.description)
                    }
                    return .committed([
                        "\(ChainReconciler.label(table, family: family)): the commit reported \(error.description), but the table holds the change (the rule counters may have restarted from zero)"
                    ])
                }
            },
            busy: { race, attempts in
                BackendError(
                    .busy, "\(race), \(attempts) times in \(CommitRetry.budgetMilliseconds) ms",
                    details: "a program outside the xtables lock keeps changing the table; retry later")
            })
    }

    /// Reads `table` of `family` (libiptc itself redoes a read that overlaps a commit).
    func open(_ family: IPFamily, _ table: String) throws(BackendError) -> XTablesTable {
        do {
            return try XTablesTable(table: table, family: family)
        } catch {
            throw BackendError(.kernel, error.description)
        }
    }

}
