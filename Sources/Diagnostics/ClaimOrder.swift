import PortmapCore
import Snapshots

/// Which of two mappings of one port a new connection reaches. Within one owner's table the
/// entry rule that comes first; across owners in one nat table, the owner whose entry chain
/// PREROUTING jumps to first. Mappings in different stores stay in listing order: their hooks
/// share a priority and the kernel's registration order decides.
struct ClaimOrder {
    struct Key: Hashable {
        let owner: PortOwner
        let store: RuleStore
        let family: IPFamily
    }

    struct Table: Hashable {
        let store: RuleStore
        let table: String
        let family: IPFamily
    }

    let hookPositions: [Key: Int]
    let priorities: [Table: Int32]

    init(_ tables: [HostPortTable]) {
        var positions: [Key: Int] = [:]
        var priorities: [Table: Int32] = [:]
        for table in tables {
            if let position = table.hookPosition { positions[Key(owner: table.owner, store: table.store, family: table.family)] = position }
            priorities[Table(store: table.store, table: table.table, family: table.family)] = table.priority
        }
        hookPositions = positions
        self.priorities = priorities
    }

    /// The priority of the nat prerouting chain leading to `mapping`.
    func priority(of mapping: HostPortMapping) -> Int32 {
        priorities[Table(store: mapping.store, table: mapping.table, family: mapping.family)] ?? HostPortTable.natDestinationPriority
    }

    /// The position of PREROUTING's jump to the chain leading to `mapping`.
    func hookPosition(of mapping: HostPortMapping) -> Int? {
        hookPositions[Key(owner: mapping.owner, store: mapping.store, family: mapping.family)]
    }

    /// `(winner, loser)`; ties keep the listing order.
    func winner(_ i: Int, _ j: Int, in mappings: [HostPortMapping]) -> (Int, Int) {
        func rank(_ mapping: HostPortMapping) -> (Int, Int) {
            (hookPosition(of: mapping) ?? Int.max, mapping.entryIndex ?? Int.max)
        }
        let a = mappings[i]
        let b = mappings[j]
        guard a.store == b.store, a.owner != b.owner else {
            return (b.entryIndex ?? Int.max) < (a.entryIndex ?? Int.max) ? (j, i) : (i, j)
        }
        return rank(b) < rank(a) ? (j, i) : (i, j)
    }
}
