import PortmapCore
import Snapshots

/// Every forwarder's claim on one address and port, in the order the kernel tries them for a
/// packet from another host: nat chains on the prerouting hook by priority, and within one nat
/// table by the order PREROUTING jumps to each owner's chain. The first that DNATs the
/// connection takes it; nat chains after it are not consulted for that connection.
struct ClaimRanking {
    struct Claim {
        /// Text for operators: who, what, where.
        var text: String
        var priority: Int32
        /// The nat chain (table) the claim is reached from; claims in one are ordered by `position`.
        var hook: String
        var position: Int
        /// The hostPort mapping, of any owner, if the claim is one (not a Service port).
        var mapping: HostPortMapping?

        /// The CNI portmap's mapping, if the claim is one.
        var cniMapping: HostPortMapping? { mapping?.owner == .cniPortmap ? mapping : nil }
    }

    let claims: [Claim]

    init(_ target: ExplainTarget, in inventory: HostPortInventory) {
        let order = ClaimOrder(inventory.tables)
        /// The nat chain a claim is reached from: a nat table's PREROUTING, or an nftables table.
        func hook(store: RuleStore, table: String, family: IPFamily) -> String {
            store == .iptablesLegacy || store == .iptablesNFT ? "\(store) nat \(family)" : "\(store) \(table)"
        }
        var claims: [Claim] = []
        for mapping in inventory.mappings
        where mapping.protocol == target.protocol && mapping.hostPort == target.port && mapping.accepts(target.address) && mapping.entryIndex != nil {
            let name = hook(store: mapping.store, table: mapping.table, family: mapping.family)
            claims.append(
                Claim(
                    text: "\(ConflictFinder.owner(mapping)) → \(ConflictFinder.endpoint(mapping.podIP, mapping.podPort)) (\(mapping.owner), \(name))",
                    priority: order.priority(of: mapping), hook: name,
                    position: (order.hookPosition(of: mapping) ?? 0) * 1_000_000 + (mapping.entryIndex ?? 0),
                    mapping: mapping))
        }
        for service in inventory.servicePorts
        where service.protocol == target.protocol && service.port == target.port && service.family == target.address.family
            && service.accepts(target.address) && service.reachable
        {
            let name = hook(store: service.store, table: service.table, family: service.family)
            claims.append(
                Claim(
                    text: "kube-proxy's \(service.kind.rawValue) \(service.service ?? "(no comment)") (\(name))", priority: service.priority,
                    hook: name, position: (service.hookPosition ?? 0) * 1_000_000, mapping: nil))
        }
        self.claims = claims.sorted { ($0.priority, $0.hook, $0.position) < ($1.priority, $1.hook, $1.position) }
    }

    /// Claims in other nat chains at the first claim's priority: which of them runs first
    /// depends on the order the kernel registered their hooks.
    var tiedWithFirst: [Claim] {
        guard let first = claims.first else { return [] }
        return claims.dropFirst().filter { $0.priority == first.priority && $0.hook != first.hook }
    }
}
