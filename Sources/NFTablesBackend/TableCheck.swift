import PortmapCore

/// CHECK of one family: what a container's plan needs of the table that the snapshot lacks,
/// each problem named as nft names its object. Pure.
enum TableCheck {
    static func problems(_ plan: NFTablesFamilyPlan, owner: String, in contents: TableContents) -> [String] {
        let snapshot = contents.snapshot
        let table = NFTablesLayout.tableName(plan.family)
        guard snapshot.exists else { return ["table \(table) does not exist"] }
        var problems = NFTablesLayout.chains(plan.family).filter { !snapshot.chains.contains($0) }.map { "chain \(table) \($0) is missing" }
        problems += NFTablesElement.Set.allCases.filter { !contents.sets.contains($0) }.map { "set \(table) \($0.rawValue) is missing" }
        var existing: [ElementKey: NFTablesElement] = [:]
        for element in snapshot.elements { existing[ElementKey(element)] = element }
        for element in plan.elements where contents.sets.contains(element.set) {
            let name = "element \(describe(element, in: plan.family))"
            guard let there = existing[ElementKey(element)] else {
                problems.append("\(name) is missing")
                continue
            }
            if there.destination != element.destination, let found = there.destination {
                problems.append("\(name) maps to \(found.address) . \(found.port) instead")
            }
            if there.owner != owner {
                problems.append("\(name) belongs to \(there.owner.isEmpty ? "no container (no comment)" : there.owner)")
            }
        }
        let planned = Set(plan.elements.map(ElementKey.init))
        problems += snapshot.elements.filter { $0.owner == owner && !planned.contains(ElementKey($0)) }
            .map { "unexpected element \(describe($0, in: plan.family)) (not in the config)" }
        return problems
    }

    /// `ip cni_portmaps hostport_dnat { tcp . 8080 comment "net/id" : 10.88.0.5 . 80 }`.
    static func describe(_ element: NFTablesElement, in family: IPFamily, table: String = NFTablesLayout.table) -> String {
        "\(NFTablesLayout.tableName(family, table)) \(element.set.rawValue) { \(NFTablesPlanner.text(of: element)) }"
    }
}
