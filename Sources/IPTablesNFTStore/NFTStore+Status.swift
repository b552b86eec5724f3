import IPTablesLayout
import Nftnl
import PortmapCore

/// CNI STATUS for the iptables-nft store.
extension NFTStore {
    /// STATUS: whether an ADD of `plans` could be served now, in the families the kernel runs,
    /// without a lock and without changing anything, at a cost that does not grow with the
    /// node's rules: nf_tables answers, the kernel has every xtables extension the rules carry
    /// (iptables-nft's own revision probe, which loads a module the kernel has), and it takes
    /// the tables and base chains an ADD creates (a batch of those, sent without its end message,
    /// so it is checked and thrown away, as `nft --check` does).
    package func status(_ plans: [IPTablesFamilyPlan]) throws(BackendError) {
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
        // The tables and base chains: what nf_tables must take for the rules to hook in.
        _ = try transact(commits: false) { session throws(BackendError) in
            for plan in plans {
                for (name, chains) in [("raw", plan.rawChains), ("nat", plan.chains)] where !chains.isEmpty {
                    guard try !session.exists(plan.family, name) else { continue }
                    session.batch.createTable(name, family: plan.family)
                    let entryChains = Set(chains.flatMap(\.entryChains))
                    for chain in entryChains.sorted() {
                        guard let hook = NFTRuleTable.baseChain(chain, of: name) else { continue }
                        session.batch.append(
                            NftMessages.newChain(NftChain(table: name, name: chain, hook: hook), family: plan.family, flags: .create),
                            "\(plan.family == .ipv4 ? "iptables" : "ip6tables") -t \(name) :\(chain)")
                    }
                }
            }
        }
    }
}
