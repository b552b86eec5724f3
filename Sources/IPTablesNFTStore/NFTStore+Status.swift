import IPTablesLayout
import ModuleTree
import Nftnl
import NodeLock
import PortmapCore

/// CNI STATUS for the iptables-nft store.
extension NFTStore {
    /// STATUS: whether an ADD of `plans` could be served now, in the families the kernel runs,
    /// without taking a lock (its file must open, as an ADD's would) and without changing
    /// anything, at a cost that does not grow with the node's rules: nf_tables answers, the
    /// kernel has every xtables extension the rules carry (iptables-nft's own revision probe,
    /// which loads a module the kernel has), and where a family's nat table is not there yet, the
    /// kernel offers its nat chain type (`nft-chain-2-nat`, `nft-chain-10-nat`, built in or in the
    /// module tree; a tree that cannot be read counts as offering it, as for the legacy store).
    /// No trial batch: the kernel answers any aborted transaction after an RCU grace period
    /// (about 14 ms here), too slow for containerd's poll; raw's filter chains are in the core.
    package func status(_ plans: [IPTablesFamilyPlan]) throws(BackendError) {
        try NodeLock.checkOpenable(path: lockPath, name: NFTablesLock.name)
        let socket = try open()
        let reader = NFTReader(socket: socket)
        _ = try Self.generation(reader)
        let plans = plans.filter { Self.families.contains($0.family) }
        var probes: [(family: IPFamily, payload: XTExtensions.Payload, isTarget: Bool)] = []
        for plan in plans {
            for rule in (plan.rawChains + plan.chains).flatMap({ $0.rules + $0.entryRules }) {
                do throws(RuleEncodingError) {
                    for expression in try RuleExpressions.encode(rule, family: plan.family).expressions {
                        switch expression {
                        case .match(let name, let revision, _):
                            probes.append((plan.family, XTExtensions.Payload(name: name, revision: UInt8(revision), data: []), false))
                        case .target(let name, let revision, _):
                            probes.append((plan.family, XTExtensions.Payload(name: name, revision: UInt8(revision), data: []), true))
                        default:
                            continue
                        }
                    }
                } catch {
                    throw BackendError(.kernel, "cannot encode \(rule.saveLine(chain: "<trial>"))", details: error.message)
                }
            }
        }
        var seen: Set<String> = []
        probes = probes.filter { seen.insert("\($0.family) \($0.payload.name) \($0.payload.revision) \($0.isTarget)").inserted }
        let answers: [Result<[[UInt8]], HostNetworkError>]
        do {
            answers = try socket.lookUp(
                probes.map { NftMessages.compatProbe(name: $0.payload.name, revision: UInt32($0.payload.revision), isTarget: $0.isTarget, family: $0.family) },
                operation: "look up xtables extensions")
        } catch {
            throw BackendError(.kernel, "iptables-nft tables: \(error)")
        }
        for (probe, answer) in zip(probes, answers) {
            guard case .failure(let error) = answer else { continue }
            let tool = probe.family == .ipv4 ? "iptables" : "ip6tables"
            throw BackendError(
                .kernel, "\(tool) (iptables-nft): the kernel has no \(probe.payload.name) \(probe.isTarget ? "target" : "match") (revision \(probe.payload.revision))",
                details: error.description)
        }
        // The nat tables: the chain type an ADD's base chains need, where it would create them.
        var modules: KernelModules?
        for family in Set(plans.map(\.family)).sorted() {
            let exists: Bool
            do throws(RuleTableError) { exists = try reader.tableExists("nat", family: family) } catch {
                throw BackendError(.kernel, error.description)
            }
            guard !exists else { continue }
            if modules == nil { modules = KernelModules() }
            let alias = "nft-chain-\(family == .ipv4 ? 2 : 10)-nat"
            if modules?.availability(ofAny: [alias, "nft_chain_nat"]) == .missing {
                throw BackendError(
                    .kernel, "\(family == .ipv4 ? "iptables" : "ip6tables") (iptables-nft): the kernel has no nat chain type (\(alias))",
                    details: "neither built in nor in the module tree: an ADD could not create the nat table's base chains")
            }
        }
    }
}
