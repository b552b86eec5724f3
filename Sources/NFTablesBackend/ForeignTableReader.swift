import Nftnl
import PortmapCore
import Snapshots

extension TableReader {
    /// Tables this reader never reports as foreign: iptables-nft's (its `nat` is read as a nat
    /// table by the iptables backend) and the CNI portmaps' own.
    static let knownTables: Set<String> = ["nat", "filter", "mangle", "raw", "security", NFTablesLayout.table, UpstreamNFTablesLayout.table]

    /// Every other table with a nat base chain, in every family, read whole: where other
    /// forwarders (kube-proxy, netavark, CRI-O) keep their port mappings, and any table that
    /// could DNAT a node port. Tables without a nat hook (a firewall's) are not read.
    func foreignSnapshots() throws(BackendError) -> [ForeignNFTablesSnapshot] {
        let tables = try query(NftMessages.dumpTables(), "list the nftables tables").compactMap(NftReplies.table)
            .filter { !Self.knownTables.contains($0.name) || $0.family == .inet }
        var chainsByFamily: [NftTableFamily: [NftReplies.Chain]] = [:]
        var snapshots: [ForeignNFTablesSnapshot] = []
        for (family, name) in tables {
            if chainsByFamily[family] == nil {
                chainsByFamily[family] = try query(NftMessages.dumpChains(family), "list the \(family) chains").compactMap(NftReplies.chain)
            }
            let chains = (chainsByFamily[family] ?? []).filter { $0.table == name }
            guard chains.contains(where: { $0.type == "nat" && $0.hook != nil }) else { continue }
            let label = "\(family) \(name)"
            let ipFamily: IPFamily? = family == .ip ? .ipv4 : family == .ip6 ? .ipv6 : nil
            let rules = try query(NftMessages.dumpRules(family, table: name), "list the rules of \(label)").compactMap(NftReplies.rule)
                .map { ForeignRuleDecoder.decode($0, tableFamily: ipFamily) }
            var sets: [ForeignNFTablesSnapshot.Set] = []
            for type in try query(NftMessages.dumpSets(family, table: name), "list the sets of \(label)").compactMap(NftReplies.setType) {
                let elements = try query(NftMessages.dumpElements(family, table: name, set: type.name), "list set \(label) \(type.name)")
                    .flatMap(NftReplies.anyElements)
                    .map { ForeignNFTablesSnapshot.Set.Element(key: $0.key, data: $0.data, chain: $0.chain, comment: $0.comment) }
                sets.append(.init(name: type.name, keyType: type.keyType, dataType: type.dataType, elements: elements))
            }
            snapshots.append(
                ForeignNFTablesSnapshot(
                    family: family.description, name: name,
                    chains: chains.map { chain in
                        .init(name: chain.name, hook: chain.hook.flatMap(Self.hook), priority: chain.priority, type: chain.type)
                    }, rules: rules, sets: sets))
        }
        return snapshots
    }

    static func hook(_ number: UInt32) -> ForeignNFTablesSnapshot.Chain.Hook? {
        switch number {
        case NftConstants.hookPrerouting: .prerouting
        case NftConstants.hookInput: .input
        case NftConstants.hookForward: .forward
        case NftConstants.hookOutput: .output
        case NftConstants.hookPostrouting: .postrouting
        default: nil
        }
    }
}
