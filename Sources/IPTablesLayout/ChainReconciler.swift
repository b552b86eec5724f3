import PortmapCore

/// Applies, verifies and removes a container's plan in one table, changing only what differs.
///
/// All edits land in the table's in-memory snapshot; the caller commits once. An ADD that finds
/// everything in place changes nothing, so it does not commit at all.
package enum ChainReconciler {
    /// Brings the nat table to the plan. Returns whether anything changed.
    package static func apply(_ plan: IPTablesFamilyPlan, to table: some RuleTable) throws(BackendError) -> Bool {
        try apply(plan.chains, requiring: plan.requiredChains, to: table)
    }

    /// Brings `table` to hold `chains`, which may jump to the `required` chains it does not create.
    package static func apply(_ chains: [IPTablesChain], requiring required: [String] = [], to table: some RuleTable) throws(BackendError) -> Bool {
        try require(required, in: table)
        var changed = false
        do {
            for chain in chains {
                changed = try applyChain(chain, to: table) || changed
                for entryChain in chain.entryChains {
                    changed = try applyEntries(of: chain, in: entryChain, to: table) || changed
                }
            }
        } catch {
            throw BackendError(.kernel, error.description)
        }
        return changed
    }

    /// Refuses the config when a chain it names (externalSetMarkChain) is not in `table`.
    package static func require(_ chains: [String], in table: some RuleTable) throws(BackendError) {
        for chain in chains where !table.chainExists(chain) {
            throw BackendError(.invalidConfig, "externalSetMarkChain \"\(chain)\" does not exist in the \(label(table)) table")
        }
    }

    private static func applyChain(_ chain: IPTablesChain, to table: some RuleTable) throws(RuleTableError) -> Bool {
        guard table.chainExists(chain.name) else {
            try table.createChain(chain.name)
            for rule in chain.rules { try table.append(rule, to: chain.name) }
            return true
        }
        switch chain.ownership {
        case .shared:
            // Only rules with a planned rule's target can be one of them (CNI-HOSTPORT-DNAT plans
            // none, and holds every container's jumps).
            let existing = try table.rules(in: chain.name, targeting: Set(chain.rules.map(\.target.targetName))).map(\.rule)
            let missing = chain.rules.filter { !existing.contains($0) }
            for rule in missing { try table.append(rule, to: chain.name) }
            return !missing.isEmpty
        case .container:
            guard try table.rules(in: chain.name) != chain.rules else { return false }
            try table.flush(chain.name)
            for rule in chain.rules { try table.append(rule, to: chain.name) }
            return true
        }
    }

    private static func applyEntries(of chain: IPTablesChain, in entryChain: String, to table: some RuleTable) throws(RuleTableError) -> Bool {
        let existing = try table.rules(in: entryChain, targeting: [chain.name])
        switch chain.ownership {
        case .shared:
            var changed = false
            for rule in chain.entryRules where !existing.contains(where: { $0.rule == rule }) {
                if chain.prependEntry {
                    try table.insert(rule, into: entryChain, at: 0)
                } else {
                    try table.append(rule, to: entryChain)
                }
                changed = true
            }
            return changed
        case .container:
            // Every jump to the container's chain is ours: replace them unless already exact.
            guard existing.map(\.rule) != chain.entryRules else { return false }
            for (index, _) in existing.reversed() { try table.deleteRule(in: entryChain, at: index) }
            for rule in chain.entryRules { try table.append(rule, to: entryChain) }
            return true
        }
    }

    /// Lists what is missing or different, in the order an operator would fix it; empty when the
    /// table holds the whole plan.
    package static func problems(_ plan: IPTablesFamilyPlan, in table: some RuleTable) throws(BackendError) -> [String] {
        let name = label(table)
        var problems: [String] = []
        for chain in plan.requiredChains where !table.chainExists(chain) {
            problems.append("\(name): chain \(chain) (externalSetMarkChain) is missing")
        }
        do {
            for chain in plan.chains {
                guard table.chainExists(chain.name) else {
                    problems.append("\(name): chain \(chain.name) is missing")
                    continue
                }
                let existing =
                    chain.ownership == .container
                    ? try table.rules(in: chain.name)
                    : try table.rules(in: chain.name, targeting: Set(chain.rules.map(\.target.targetName))).map(\.rule)
                for rule in chain.rules where !existing.contains(rule) {
                    problems.append("\(name): rule missing: \(rule.saveLine(chain: chain.name))")
                }
                if chain.ownership == .container {
                    for rule in existing where !chain.rules.contains(rule) {
                        problems.append("\(name): unexpected rule: \(rule.saveLine(chain: chain.name))")
                    }
                }
                for entryChain in chain.entryChains {
                    let entries = try table.rules(in: entryChain, targeting: [chain.name]).map(\.rule)
                    for rule in chain.entryRules where !entries.contains(rule) {
                        problems.append("\(name): rule missing: \(rule.saveLine(chain: entryChain))")
                    }
                }
            }
        } catch {
            throw BackendError(.kernel, error.description)
        }
        return problems
    }

    /// Removes each item's chain and the rules in its entry chain that jump to it. Returns whether
    /// anything changed; chains that are already gone are success.
    package static func remove(_ teardown: IPTablesTeardown, from table: some RuleTable) throws(BackendError) -> Bool {
        var changed = false
        do {
            for item in teardown.items where table.chainExists(item.chain) {
                if table.chainExists(item.entryChain) {
                    for (index, _) in try table.rules(in: item.entryChain, targeting: [item.chain]).reversed() {
                        try table.deleteRule(in: item.entryChain, at: index)
                    }
                }
                try table.flush(item.chain)
                try table.deleteChain(item.chain)
                changed = true
            }
        } catch {
            throw BackendError(.kernel, error.description)
        }
        return changed
    }

    /// GC in one nat table: removes the chains `IPTablesPlanner.garbage` finds for `network` and
    /// the jumps to them, as DEL does, except a chain some rule outside `CNI-HOSTPORT-DNAT` still
    /// jumps to (someone else's use of it; deleting it would fail the whole table's commit).
    /// Returns whether anything changed.
    package static func collectGarbage(
        network: String, keeping containerIDs: Set<String>,
        from table: some RuleTable
    ) throws(BackendError) -> Bool {
        guard table.chainExists(ChainName.topLevelDNAT) else { return false }
        var garbage: IPTablesTeardown
        do {
            let entries = try table.rules(in: ChainName.topLevelDNAT)
            garbage = IPTablesPlanner.garbage(network: network, keeping: containerIDs, entryRules: entries)
            var removable: [IPTablesTeardown.Item] = []
            for item in garbage.items {
                let jumps = entries.filter { $0.target.jumpedChain == item.chain }.count
                if try table.references(to: item.chain) == jumps { removable.append(item) }
            }
            garbage.items = removable
        } catch {
            throw BackendError(.kernel, error.description)
        }
        return try remove(garbage, from: table)
    }

    /// "iptables nat", "ip6tables raw": how messages name a table.
    package static func label(_ table: some RuleTable) -> String {
        label(table.name, family: table.family)
    }

    package static func label(_ table: String, family: IPFamily) -> String {
        "\(family == .ipv4 ? "iptables" : "ip6tables") \(table)"
    }
}
