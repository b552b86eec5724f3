extension PortMapConfig {
    /// The config as DEL and GC read it when ADD's validation refuses it: they find a container's
    /// rules by network name and container ID alone, so a config the Go plugin accepted (a
    /// duplicate, a condition we do not parse, a port of 70000) must still let its pod be removed,
    /// or the runtime retries that DEL forever. Only what they use is required: a supported
    /// cniVersion (the runtime's contract), a name, a known backend and, for GC, the attachment
    /// list. The mappings kept are those that decode, for the UDP conntrack flush; a prevResult
    /// that does not decode only widens that flush to both families. The iptables options are
    /// left at their defaults: nothing DEL or GC does depends on them (they look in every store).
    init(teardownFields fields: JSONFields) throws(ConfigError) {
        cniVersion = try Self.decodeVersion(fields)
        name = try Self.decodeName(fields)
        backend = try Self.decodeBackend(fields)
        snat = true
        masqAll = false
        markMasqBit = Self.defaultMarkMasqBit
        externalSetMarkChain = nil
        conditionsV4 = RuleConditions()
        conditionsV6 = RuleConditions()
        localnetGuard = true
        iptablesStore = nil
        let elements = ((try? fields.object("runtimeConfig")) ?? nil).flatMap { runtime in (try? runtime.array("portMappings")) ?? nil } ?? []
        listsMappings = !elements.isEmpty
        portMappings = elements.compactMap { element in
            guard case .object(let members) = element else { return nil }
            return try? PortMapping(JSONFields(members))
        }
        prevResult = ((try? fields.object("prevResult")) ?? nil).flatMap { prev in try? CNIResult(prev.object, path: "prevResult") }
        validAttachments = try GCAttachment.decodeLists(fields)
    }
}
