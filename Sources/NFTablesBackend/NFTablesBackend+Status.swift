import ModuleTree
import Nftnl
import NodeLock
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CNI STATUS for the nftables backend.
extension NFTablesBackend {
    /// STATUS: whether an ADD could be served now, found out without changing anything and
    /// without the lock (containerd asks every few seconds; a holder only delays an ADD): the
    /// lock file opens as an ADD opens it, the kernel answers nf_tables requests, and in each
    /// family the kernel runs (IPv6 unless it is disabled) the plugin's table exists with the
    /// plugin's sets, or the kernel has, built in or in its module tree, what an ADD would create it with: the nat
    /// chain type and the expressions its rules use (`TableLayout`). No batch is sent: the kernel
    /// throws away an uncommitted one only after an RCU grace period (16 ms on an idle node).
    public func status(_ config: PortMapConfig) throws(BackendError) {
        try NodeLock.checkOpenable(path: lockPath, name: NFTablesLock.name)
        let reader = TableReader(socket: try open())
        _ = try reader.generation()
        let families: [IPFamily] = access("/proc/net/if_inet6", F_OK) == 0 ? [.ipv4, .ipv6] : [.ipv4]
        var modules: KernelModules?
        for family in families {
            if try reader.tableExists(family) {
                // An ADD adds elements: they must fit the sets there.
                let there = try reader.setTypes(family)
                for set in TableLayout(family).sets where !there.contains(NftReplies.SetType(set)) {
                    throw BackendError(
                        .kernel, "nftables: table \(NFTablesLayout.tableName(family)) has no set \(set.name) of the plugin's type",
                        details: "an ADD could not add its elements; was the table made or changed by hand? (nft delete table \(NFTablesLayout.tableName(family)))")
                }
                continue
            }
            if modules == nil { modules = KernelModules() }
            for need in Self.kernelNeeds(family) where modules?.availability(ofAny: need.modules) == .missing {
                throw BackendError(
                    .kernel, "nftables: the kernel has no \(need.what) (\(need.modules[0]))",
                    details: "neither built in nor in the module tree: an ADD could not create table \(NFTablesLayout.tableName(family))")
            }
        }
    }

    /// What the kernel must offer for `family`'s table to be created: for each nat base chain and
    /// each kind of expression its rules use that nf_tables does not build in, the module aliases
    /// the kernel requests it by (`nft-chain-2-nat`, `nft-expr-nat`) and its module's name.
    static func kernelNeeds(_ family: IPFamily) -> [(what: String, modules: [String])] {
        let number = family == .ipv4 ? 2 : 10
        let layout = TableLayout(family)
        var needs: [(what: String, modules: [String])] = []
        func need(_ what: String, _ modules: [String]) {
            if !needs.contains(where: { $0.what == what }) { needs.append((what, modules)) }
        }
        for chain in layout.chains where chain.hook?.type == "nat" {
            need("nat chain type", ["nft-chain-\(number)-nat", "nft_chain_nat"])
        }
        for expression in layout.rules.flatMap(\.expressions) {
            switch expression {
            case .fib: need("fib expression", ["nft-expr-\(number)-fib", family == .ipv4 ? "nft_fib_ipv4" : "nft_fib_ipv6"])
            case .dnat: need("nat expression", ["nft-expr-nat", "nft_nat"])
            case .conntrack: need("ct expression", ["nft-expr-ct", "nft_ct"])
            case .masquerade: need("masq expression", ["nft-expr-masq", "nft_masq"])
            default: continue
            }
        }
        return needs
    }
}
