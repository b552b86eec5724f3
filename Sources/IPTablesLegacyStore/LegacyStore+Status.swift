import IPTablesLayout
import ModuleTree
import NodeLock
import PortmapCore

/// CNI STATUS for the legacy store.
extension LegacyStore {
    /// STATUS: whether an ADD of `plans` could be served now, in the families the kernel runs.
    /// containerd (≥ 2.0.1) asks every few seconds and marks the node's network not ready on a
    /// failure, so this takes no lock (another writer holding it only delays an ADD), opens no
    /// table (libiptc would instantiate one) and creates no namespace: it reads /proc and the
    /// kernel's module tree.
    ///
    /// In each planned family, the tables the ADD writes (nat, and raw for the IPv4 localnet
    /// guard) must exist or have their module built in or installed, and each extension the rules
    /// use must be registered or installed. Where the module tree cannot be read the kernel's
    /// offer cannot be told, and STATUS succeeds (see `KernelModules`). The xtables lock file must
    /// be openable, as an ADD opens it.
    ///
    /// Not checked: `externalSetMarkChain` (another component's chain, which may appear later; the
    /// ADD names it with code 7), SCTP (only an SCTP mapping needs it) and the netlink side
    /// (route_localnet, conntrack), which every kernel with these tables has.
    package func status(_ plans: [IPTablesFamilyPlan]) throws(BackendError) {
        try NodeLock.checkOpenable(path: lockPath, name: "xtables lock")
        var modules: KernelModules?
        for plan in plans where KernelTables.families.contains(plan.family) {
            let offer = KernelTables.Offer(plan.family)
            try Self.checkKernel(
                for: plan, isThere: offer.has,
                modules: {
                    if modules == nil { modules = KernelModules() }
                    return modules!
                })
        }
    }

    /// Throws, naming the first need of `plan` that is neither there (`isThere`) nor available
    /// from `modules`, which is read only when something is not there.
    static func checkKernel(
        for plan: IPTablesFamilyPlan, isThere: (KernelTables.Need) -> Bool, modules: () -> KernelModules
    ) throws(BackendError) {
        for need in try needs(of: plan) where !isThere(need) {
            let names = need.moduleNames(plan.family)
            guard modules().availability(ofAny: names) != .missing else {
                let tool = plan.family == .ipv4 ? "iptables" : "ip6tables"
                throw BackendError(
                    .kernel, "\(tool): the kernel has no \(need)",
                    details: "neither there nor built in or installed as a module (\(names.joined(separator: " or ")))")
            }
        }
    }

    /// What the kernel must offer for `plan`: the family's x_tables, its tables, then its
    /// extensions.
    private static func needs(of plan: IPTablesFamilyPlan) throws(BackendError) -> [KernelTables.Need] {
        let tables = [("raw", plan.rawChains), ("nat", plan.chains)].filter { !$0.1.isEmpty }
        var matches: Set<String> = []
        var targets: Set<String> = []
        for rule in tables.flatMap({ $0.1 }).flatMap({ $0.rules + $0.entryRules }) {
            do throws(RuleEncodingError) {
                let names = try EntryCodec.extensionNames(of: rule, family: plan.family)
                matches.formUnion(names.matches)
                if let target = names.target { targets.insert(target) }
            } catch {
                throw BackendError(.kernel, "cannot encode \(rule.saveLine(chain: "<trial>"))", details: error.message)
            }
        }
        return [.xTables] + tables.map { .table($0.0) } + matches.sorted().map { .match($0) } + targets.sorted().map { .target($0) }
    }
}
