import PortmapCore

/// CNI STATUS for the iptables backend.
extension IPTablesBackend {
    /// STATUS: whether an ADD of `config` could be served now, found out without changing
    /// anything the verbs see. That is, when
    /// - the xtables lock can be taken within the time an ADD would wait for it (it is let go at
    ///   once), and
    /// - in each family the kernel runs (IPv6 unless it is disabled), the tables an ADD of
    ///   `config` writes (nat, and raw for the IPv4 localnet guard) take its rules. If this
    ///   namespace has those tables and the kernel lists every extension the rules use, reading
    ///   the tables through libiptc shows it. Otherwise a trial ADD (`config` with one TCP and one
    ///   UDP mapping for a documentation address) is committed in a scratch network namespace:
    ///   the kernel instantiates the tables and loads the extensions there, while in this
    ///   namespace no table is created (libiptc would instantiate one just by opening it).
    ///
    /// Not checked: `externalSetMarkChain` (another component's chain, which may appear later; the
    /// ADD names it with code 7), SCTP (only an SCTP mapping needs it) and the netlink side
    /// (route_localnet, conntrack), which every kernel with these tables has.
    public func status(_ config: PortMapConfig) throws(BackendError) {
        try XTablesLock.holding(path: lockPath, timeoutMilliseconds: lockTimeoutMilliseconds) {}
        var trial = config
        trial.portMappings = [
            PortMapping(hostPort: 1, containerPort: 1, protocol: .tcp),
            PortMapping(hostPort: 1, containerPort: 1, protocol: .udp),
        ]
        for family in KernelTables.families {
            let address = family == .ipv4 ? IPNetwork("192.0.2.2/24")! : IPNetwork("2001:db8::2/64")!
            try probe(IPTablesPlanner.plan(trial, containerID: "status-probe", container: address))
        }
    }

    /// STATUS for one family's plan: read the tables where they are all there with every
    /// extension registered, else commit the plan in a scratch network namespace.
    private func probe(_ plan: IPTablesFamilyPlan) throws(BackendError) {
        let family = plan.family
        let tables = [("raw", plan.rawChains), ("nat", plan.chains)].filter { !$0.1.isEmpty }
        var matches: Set<String> = []
        var targets: Set<String> = []
        for rule in tables.flatMap({ $0.1 }).flatMap({ $0.rules + $0.entryRules }) {
            do throws(EntryCodec.EncodingError) {
                let names = try EntryCodec.extensionNames(of: rule, family: family)
                matches.formUnion(names.matches)
                if let target = names.target { targets.insert(target) }
            } catch {
                throw BackendError(.kernel, "cannot encode \(rule.saveLine(chain: "<trial>"))", details: error.message)
            }
        }
        if tables.allSatisfy({ KernelTables.exists($0.0, family: family) })
            && KernelTables.registered(matches: matches, targets: targets, family: family)
        {
            for (name, _) in tables { _ = try open(family, name) }
            return
        }
        do throws(BackendError) {
            try ScratchNetworkNamespace.run { () throws(BackendError) in try trialAdd(plan, tables: tables) }
        } catch {
            let tool = family == .ipv4 ? "iptables" : "ip6tables"
            throw BackendError(error.kind, "\(tool): a trial ADD in a scratch network namespace failed", details: error.description)
        }
    }

    /// Commits `plan` to `tables` as ADD does; in a scratch namespace, which has no
    /// externalSetMarkChain, one is stood in.
    private func trialAdd(_ plan: IPTablesFamilyPlan, tables: [(String, [IPTablesChain])]) throws(BackendError) {
        for (name, chains) in tables {
            let required = name == "nat" ? plan.requiredChains : []
            _ = try transact(plan.family, name) { table throws(BackendError) in
                do throws(XTablesError) {
                    for chain in required where !table.chainExists(chain) { try table.createChain(chain) }
                } catch {
                    throw BackendError(.kernel, error.description)
                }
                return try ChainReconciler.apply(chains, requiring: required, to: table)
            }
        }
    }
}
