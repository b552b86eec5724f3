import PortmapCore
import Snapshots

/// The text and JSON `hostports` prints. JSON keys and their meaning are the documented schema
/// (docs/hostports.md, "`hostports` JSON"): add keys, never rename or remove them without bumping `schema`.
public enum Reports {
    /// The JSON schema version every document carries.
    public static let schema = 1

    // MARK: list

    public static func listTable(_ inventory: HostPortInventory) -> String {
        var table = TextTable(["PROTO", "HOST IP", "HOST PORT", "POD", "OWNER", "NETWORK", "CONTAINER", "FAMILY", "RULE IN", "LISTENERS"])
        for mapping in inventory.mappings {
            let listeners = inventory.listeners(sharing: mapping).map(ConflictFinder.socketText)
            table.append([
                mapping.protocol.rawValue, mapping.hostIP?.description ?? "all addresses", String(mapping.hostPort),
                ConflictFinder.endpoint(mapping.podIP, mapping.podPort), mapping.owner.rawValue, mapping.network ?? "-",
                mapping.workload ?? mapping.containerID.map(ShortID.of) ?? (mapping.owner == .docker ? "(not named by the rules)" : "-"),
                mapping.family.rawValue, "\(mapping.store) \(mapping.table) \(mapping.chain)",
                listeners.isEmpty ? "-" : listeners.joined(separator: ", "),
            ])
        }
        let services = servicePortsTable(inventory)
        guard inventory.mappings.isEmpty else { return table.rendered + services }
        // Nothing mapped: say where that was looked for, so a missing table is not mistaken for
        // an empty one.
        let looked = inventory.tables.map { "\(label($0)): \($0.exists ? "no mappings" : "does not exist")" }
        return "no hostPort mappings\n" + looked.map { "  \($0)\n" }.joined() + services
    }

    /// kube-proxy's claims on node ports, after the hostPorts; empty without any.
    static func servicePortsTable(_ inventory: HostPortInventory) -> String {
        guard !inventory.servicePorts.isEmpty else { return "" }
        var table = TextTable(["KIND", "PROTO", "ADDRESS", "PORT", "SERVICE", "OWNER", "FAMILY", "RULE IN"])
        for claim in inventory.servicePorts {
            table.append([
                claim.kind.rawValue + (claim.reachable ? "" : " (not reached)"), claim.protocol.rawValue,
                claim.address?.description ?? "all addresses", String(claim.port), claim.service ?? "-", claim.owner.rawValue,
                claim.family.rawValue, "\(claim.store) \(claim.table) \(claim.chain)",
            ])
        }
        return "\nnode ports taken by Services:\n" + table.rendered
    }

    public static func listJSON(_ inventory: HostPortInventory) -> String {
        document([
            ("mappings", .array(inventory.mappings.map { mappingJSON($0, inventory) })),
            ("tables", .array(inventory.tables.map(tableJSON))),
            ("servicePorts", .array(inventory.servicePorts.map(servicePortJSON))),
        ])
    }

    // MARK: conflicts

    public static func conflictsTable(_ findings: [Finding], _ inventory: HostPortInventory) -> String {
        guard !findings.isEmpty else { return "no conflicts among \(inventory.mappings.count) hostPort mappings\n" }
        var table = TextTable(["KIND", "FAMILY", "PROBLEM"])
        var advice = TextTable(["KIND", "WHAT TO DO"])
        var advised: Set<String> = []
        for finding in findings {
            table.append([finding.kind.rawValue, finding.family.rawValue, finding.message])
            if advised.insert(finding.kind.rawValue + finding.advice).inserted {
                advice.append([finding.kind.rawValue, finding.advice])
            }
        }
        return table.rendered + "\n" + advice.rendered
    }

    public static func conflictsJSON(_ findings: [Finding], _ inventory: HostPortInventory) -> String {
        document([
            (
                "conflicts",
                .array(
                    findings.map { finding in
                        object([
                            ("kind", .string(finding.kind.rawValue)),
                            ("family", .string(finding.family.rawValue)),
                            ("message", .string(finding.message)),
                            ("advice", .string(finding.advice)),
                            ("mappings", .array(finding.mappings.map { mappingJSON(inventory.mappings[$0], inventory) })),
                            ("chains", .array(finding.chains.map(JSONValue.string))),
                            ("servicePorts", .array(finding.servicePorts.map { servicePortJSON(inventory.servicePorts[$0]) })),
                        ])
                    })
            )
        ])
    }

    // MARK: explain

    public static func explainText(_ explanation: Explanation) -> String {
        var table = TextTable(["STEP", "RESULT", "DETAIL"])
        for step in explanation.steps {
            table.append([step.name.rawValue, step.status.rawValue, step.detail])
        }
        var text = "\(explanation.target.description):\n" + table.rendered
        if let failure = explanation.failure {
            text += "\nfails at \(failure.name.rawValue): \(failure.detail)\n"
            if !failure.advice.isEmpty { text += "what to do: \(failure.advice)\n" }
        } else {
            text += "\nanswers: \(explanation.verdict)\n"
        }
        return text
    }

    public static func explainJSON(_ explanation: Explanation) -> String {
        document([
            (
                "target",
                object([
                    ("address", .string(explanation.target.address.description)),
                    ("port", number(explanation.target.port)),
                    ("protocol", .string(explanation.target.protocol.rawValue)),
                ])
            ),
            ("answers", .bool(explanation.failure == nil)),
            ("verdict", .string(explanation.verdict)),
            ("failedStep", explanation.failure.map { .string($0.name.rawValue) } ?? .null),
            (
                "steps",
                .array(
                    explanation.steps.map { step in
                        object([
                            ("step", .string(step.name.rawValue)),
                            ("status", .string(step.status.rawValue)),
                            ("detail", .string(step.detail)),
                            ("advice", .string(step.advice)),
                        ])
                    })
            ),
        ])
    }

    // MARK: pieces

    static func mappingJSON(_ mapping: HostPortMapping, _ inventory: HostPortInventory) -> JSONValue {
        object([
            ("protocol", .string(mapping.protocol.rawValue)),
            ("family", .string(mapping.family.rawValue)),
            ("hostIP", mapping.hostIP.map { .string($0.description) } ?? .null),
            ("hostPort", number(mapping.hostPort)),
            ("podIP", .string(mapping.podIP.description)),
            ("podPort", number(mapping.podPort)),
            ("owner", .string(mapping.owner.rawValue)),
            ("network", mapping.network.map(JSONValue.string) ?? .null),
            ("containerID", mapping.containerID.map(JSONValue.string) ?? .null),
            ("workload", mapping.workload.map(JSONValue.string) ?? .null),
            ("store", .string(mapping.store.rawValue)),
            ("table", .string(mapping.table)),
            ("chain", .string(mapping.chain)),
            ("reachable", .bool(mapping.entryIndex != nil)),
            ("hairpinMasquerade", .bool(mapping.hairpinMasquerade)),
            ("localhostMasquerade", .bool(mapping.localhostMasquerade)),
            ("rule", .string(mapping.rule)),
            ("listeners", .array(inventory.listeners(sharing: mapping).map(listenerJSON))),
        ])
    }

    static func listenerJSON(_ socket: ListeningSocket) -> JSONValue {
        object([
            ("protocol", .string(socket.protocol.rawValue)),
            ("family", .string(socket.family.rawValue)),
            ("address", .string(socket.address.description)),
            ("port", number(socket.port)),
            (
                "processes",
                .array(
                    socket.owners.map { owner in
                        object([("pid", .number(JSONNumber(Int(owner.pid)))), ("command", .string(owner.command))])
                    })
            ),
        ])
    }

    /// "iptables-legacy nat (ipv4)", "nftables ip cni_portmaps", "nftables-upstream ip cni_hostport".
    static func label(_ table: HostPortTable) -> String {
        table.dispatchChain != nil ? "\(table.store) \(table.table)" : "\(table.store) \(table.table) (\(table.family))"
    }

    static func servicePortJSON(_ claim: ServicePort) -> JSONValue {
        object([
            ("owner", .string(claim.owner.rawValue)),
            ("kind", .string(claim.kind.rawValue)),
            ("protocol", .string(claim.protocol.rawValue)),
            ("family", .string(claim.family.rawValue)),
            ("address", claim.address.map { .string($0.description) } ?? .null),
            ("port", number(claim.port)),
            ("service", claim.service.map(JSONValue.string) ?? .null),
            ("store", .string(claim.store.rawValue)),
            ("table", .string(claim.table)),
            ("chain", .string(claim.chain)),
            ("reachable", .bool(claim.reachable)),
            ("rule", .string(claim.rule)),
        ])
    }

    static func tableJSON(_ table: HostPortTable) -> JSONValue {
        object([
            ("owner", .string(table.owner.rawValue)),
            ("entryChain", .string(table.dispatchChain ?? table.entryChain)),
            ("family", .string(table.family.rawValue)),
            ("store", .string(table.store.rawValue)),
            ("table", .string(table.table)),
            ("exists", .bool(table.exists)),
            ("preroutingHook", .bool(table.preroutingHook)),
            ("outputHook", .bool(table.outputHook)),
            ("masqueradeHook", .bool(table.masqueradeHook)),
            ("orphanChains", .array(table.orphanChains.map(JSONValue.string))),
        ])
    }

    static func document(_ members: [(String, JSONValue)]) -> String {
        object([("schema", number(schema))] + members).serialized(indent: 2) + "\n"
    }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }

    static func number(_ value: some BinaryInteger) -> JSONValue { .number(JSONNumber(Int(value))) }
}
