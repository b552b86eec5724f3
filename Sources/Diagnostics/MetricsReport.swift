import PortmapCore
import Snapshots

/// `hostports metrics`: the inventory and its findings in the Prometheus text exposition format
/// (version 0.0.4), for node-exporter's textfile collector. Every series of a family is written
/// even when zero, so an alert on a count does not go silent when the count drops to nothing.
public enum MetricsReport {
    /// The document of a successful read that took `seconds`.
    public static func text(_ inventory: HostPortInventory, _ findings: [Finding], seconds: Double) -> String {
        var document = status(success: true, seconds: seconds)
        document += family(
            "hostports_mappings", "Port mappings (DNAT rules) on the node, by owner, store and family.",
            tableKeys(inventory).map { key in
                (
                    labels(owner: key.owner, store: key.store, family: key.family),
                    inventory.mappings.count { $0.owner == key.owner && $0.store == key.store && $0.family == key.family }
                )
            })
        let serviceKeys = Set(inventory.servicePorts.map { ServiceKey(kind: $0.kind, store: $0.store, family: $0.family) })
            .sorted { ($0.kind.rawValue, $0.store.rawValue, $0.family.rawValue) < ($1.kind.rawValue, $1.store.rawValue, $1.family.rawValue) }
        document += family(
            "hostports_service_ports", "Node ports kube-proxy takes for Services (NodePorts, external and load-balancer IPs), by kind, store and family.",
            serviceKeys.map { key in
                (
                    "{kind=\(quoted(key.kind.rawValue)),store=\(quoted(key.store.rawValue)),family=\(quoted(key.family.rawValue))}",
                    inventory.servicePorts.count { $0.kind == key.kind && $0.store == key.store && $0.family == key.family }
                )
            })
        document += family(
            "hostports_conflicts", "Findings of `hostports conflicts`, by kind.",
            Finding.Kind.allCases.map { kind in ("{kind=\(quoted(kind.rawValue))}", findings.count { $0.kind == kind }) })
        document += family(
            "hostports_orphan_chains", "Per-container chains no entry rule jumps to (rules of a container never removed), by owner, store and family.",
            inventory.tables.filter(\.exists).map { table in
                (labels(owner: table.owner, store: table.store, family: table.family), table.orphanChains.count)
            })
        let gone = Set(findings.filter { $0.kind == .podGone }.flatMap(\.mappings))
        document += family(
            "hostports_orphan_mappings", "Mappings whose pod address no network namespace on the node holds (a pod gone without a DEL), by owner, store and family.",
            tableKeys(inventory).map { key in
                (
                    labels(owner: key.owner, store: key.store, family: key.family),
                    gone.count { index in
                        let mapping = inventory.mappings[index]
                        return mapping.owner == key.owner && mapping.store == key.store && mapping.family == key.family
                    }
                )
            })
        return document
    }

    /// The document of a read that failed after `seconds`: the status only, so the failure is
    /// what the collector exports instead of the last good counts.
    public static func failure(seconds: Double) -> String { status(success: false, seconds: seconds) }

    static func status(success: Bool, seconds: Double) -> String {
        family("hostports_read_success", "Whether the last read of the node's rules and sockets succeeded.", [("", success ? 1 : 0)])
            + "# HELP hostports_read_duration_seconds How long the last read and analysis took.\n"
            + "# TYPE hostports_read_duration_seconds gauge\n"
            + "hostports_read_duration_seconds \(seconds)\n"
    }

    struct TableKey: Hashable {
        let owner: PortOwner
        let store: RuleStore
        let family: IPFamily
    }

    struct ServiceKey: Hashable {
        let kind: ServicePort.Kind
        let store: RuleStore
        let family: IPFamily
    }

    /// One series per existing table, in the inventory's order, each once.
    static func tableKeys(_ inventory: HostPortInventory) -> [TableKey] {
        var seen: Set<TableKey> = []
        return inventory.tables.filter(\.exists).map { TableKey(owner: $0.owner, store: $0.store, family: $0.family) }
            .filter { seen.insert($0).inserted }
    }

    static func family(_ name: String, _ help: String, _ series: [(labels: String, value: Int)]) -> String {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for (labels, value) in series { text += "\(name)\(labels) \(value)\n" }
        return text
    }

    static func labels(owner: PortOwner, store: RuleStore, family: IPFamily) -> String {
        "{owner=\(quoted(owner.rawValue)),store=\(quoted(store.rawValue)),family=\(quoted(family.rawValue))}"
    }

    /// A label value, escaped as the exposition format requires (backslash, quote, newline).
    static func quoted(_ value: String) -> String {
        var text = "\""
        for character in value {
            switch character {
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            case "\n": text += "\\n"
            default: text.append(character)
            }
        }
        return text + "\""
    }
}
