/// The plugin's network configuration, as a runtime sends it on stdin: the portmap entry of a
/// conflist plus `name`, `cniVersion`, `runtimeConfig` and `prevResult` injected by libcni.
public struct PortMapConfig: Sendable, Equatable {
    public var cniVersion: CNIVersion
    public var name: String
    public var backend: BackendKind
    /// Masquerade hairpin and localhost traffic (default true).
    public var snat: Bool
    /// Mark every source for masquerade, not just the container's own network (newer upstream option).
    public var masqAll: Bool
    /// The bit of the packet mark that asks CNI-HOSTPORT-MASQ to masquerade (default 13).
    public var markMasqBit: Int
    /// A chain owned by someone else (e.g. kube-proxy's KUBE-MARK-MASQ) that sets the mark instead
    /// of our CNI-HOSTPORT-SETMARK; with it we create neither SETMARK nor MASQ.
    public var externalSetMarkChain: String?
    public var conditionsV4: RuleConditions
    public var conditionsV6: RuleConditions
    /// Drop packets to 127.0.0.0/8 that arrive on any interface but `lo` before they can be
    /// DNATed to a pod (default true). Without it, anyone on a node's link can reach an IPv4
    /// hostPort at 127.0.0.1 — and `route_localnet`, which localhost hostPorts need, widens that.
    public var localnetGuard: Bool
    /// The store the iptables backend writes to, when the config forces one (`iptablesStore`);
    /// nil: chosen per network namespace.
    public var iptablesStore: IPTablesStoreName?
    public var portMappings: [PortMapping]
    /// Whether `runtimeConfig.portMappings` listed anything. DEL goes by this, not by
    /// `portMappings`, from which a teardown decoding leaves out what ADD would refuse.
    public var listsMappings: Bool
    public var prevResult: CNIResult?
    /// GC's list of attachments to keep (`cni.dev/valid-attachments`, or the legacy
    /// `cni.dev/attachments`; both are read); nil when the config lists none.
    public var validAttachments: [GCAttachment]?

    public static let defaultMarkMasqBit = 13

    /// The most `runtimeConfig.portMappings` one container may ask for. Each costs up to three
    /// rules per family in a nat table that every ADD and DEL on the node reads and writes whole;
    /// a runtime asking for more is broken or hostile, and gets a clear no before anything is
    /// planned.
    public static let maxPortMappings = 1024

    public func conditions(for family: IPFamily) -> RuleConditions {
        family == .ipv4 ? conditionsV4 : conditionsV6
    }

    /// Decodes and validates stdin. The order of checks is the order an operator fixes things in:
    /// JSON syntax, cniVersion, name, then the plugin's own fields.
    public init(json: JSONValue) throws(ConfigError) {
        try self.init(fields: Self.topLevelFields(json))
    }

    /// `init(json:)` on the top level `topLevelFields` made of it.
    init(fields: JSONFields) throws(ConfigError) {
        cniVersion = try Self.decodeVersion(fields)
        let name = try Self.decodeName(fields)
        guard CNIEnvironment.isValidName(name) else {
            throw ConfigError(.invalidValue, field: "name", "\"\(name.messageExcerpt)\" has invalid characters (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)")
        }
        self.name = name
        backend = try Self.decodeBackend(fields)
        // Another backend's option is refused, never ignored: the nftables layout shares one
        // table and its maps between all containers, so a per-container mark, chain or match
        // has nowhere to go.
        for owner in BackendKind.allCases where owner != backend {
            for key in owner.ownedKeys where fields.member(key) != nil {
                throw ConfigError(.invalidValue, field: key, "is an option of the \(owner.rawValue) backend; \(backend.refusal(ofForeignKey: key))")
            }
        }

        snat = try fields.bool("snat") ?? true
        masqAll = try fields.bool("masqAll") ?? false
        externalSetMarkChain = try fields.string("externalSetMarkChain")
        let markBit = try fields.integer("markMasqBit")
        if let chain = externalSetMarkChain {
            guard markBit == nil else {
                throw ConfigError(.invalidValue, field: "markMasqBit", "cannot be combined with externalSetMarkChain")
            }
            guard !chain.isEmpty, chain.utf8.count <= 28, !chain.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "!" }) else {
                throw ConfigError(.invalidValue, field: "externalSetMarkChain", "\"\(chain.messageExcerpt)\" is not a chain name (1-28 characters, no spaces)")
            }
        }
        markMasqBit = markBit ?? Self.defaultMarkMasqBit
        guard (0...31).contains(markMasqBit) else {
            throw ConfigError(.invalidValue, field: "markMasqBit", "\(markMasqBit) is not a mark bit (0-31)")
        }

        localnetGuard = try fields.bool("localnetGuard") ?? true
        iptablesStore = try Self.decodeStore(fields)

        conditionsV4 = try RuleConditions(tokens: try fields.strings("conditionsV4") ?? [], family: .ipv4, field: "conditionsV4")
        conditionsV6 = try RuleConditions(tokens: try fields.strings("conditionsV6") ?? [], family: .ipv6, field: "conditionsV6")

        portMappings = try Self.decodeMappings(fields)
        listsMappings = !portMappings.isEmpty

        if let prev = try fields.object("prevResult") {
            prevResult = try CNIResult(prev.object, path: "prevResult")
        } else {
            prevResult = nil
        }

        validAttachments = try GCAttachment.decodeLists(fields)
    }

    /// The top level as the Go plugin holds it after decoding (`GoDecoding`): one member per field.
    static func topLevelFields(_ json: JSONValue) throws(ConfigError) -> JSONFields {
        guard case .object(let object) = json else {
            throw ConfigError(.decoding, field: "", "the network configuration must be a JSON object, found \(json.kindName)")
        }
        return JSONFields(GoDecoding.merged(object, fields: goFields))
    }

    /// The fields read here, typed as the Go plugin's config struct types them (types.NetConf,
    /// PortMapConf; `backend` as upstream's, `localnetGuard` like its other options). Built per
    /// decoding: LeakSanitizer (scripts/fuzz.sh) reports the boxes of a static one as leaked.
    private static var goFields: [(String, GoDecoding.Shape)] {
        let attachments = GoDecoding.Shape.slice(.structure([("containerID", .string), ("ifname", .string)]))
        let mapping = GoDecoding.Shape.structure([("hostPort", .integer), ("containerPort", .integer), ("protocol", .string), ("hostIP", .string)])
        return [
            ("cniVersion", .string), ("name", .string), ("backend", .pointer(.string)),
            ("snat", .pointer(.bool)), ("masqAll", .bool), ("markMasqBit", .pointer(.integer)),
            ("externalSetMarkChain", .pointer(.string)), ("localnetGuard", .pointer(.bool)), ("iptablesStore", .pointer(.string)),
            ("conditionsV4", .pointer(.slice(.string))), ("conditionsV6", .pointer(.slice(.string))),
            ("runtimeConfig", .structure([("portMappings", .slice(mapping))])),
            ("prevResult", .map), (GCAttachment.listKeys[0], attachments), (GCAttachment.listKeys[1], attachments),
        ]
    }

    static func decodeStore(_ fields: JSONFields) throws(ConfigError) -> IPTablesStoreName? {
        guard let text = try fields.string("iptablesStore") else { return nil }
        guard let store = IPTablesStoreName(rawValue: text) else {
            let names = IPTablesStoreName.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw ConfigError(.invalidValue, field: "iptablesStore", "\"\(text.messageExcerpt)\" is not a store: \(names)")
        }
        return store
    }

    static func decodeName(_ fields: JSONFields) throws(ConfigError) -> String {
        guard let name = try fields.string("name"), !name.isEmpty else {
            throw ConfigError(.invalidValue, field: "name", "missing network name")
        }
        return name
    }

    static func decodeVersion(_ fields: JSONFields) throws(ConfigError) -> CNIVersion {
        guard let versionText = try fields.string("cniVersion") else {
            throw ConfigError(.incompatibleVersion, field: "cniVersion", "is missing; supported: \(Self.supportedList)")
        }
        guard let version = CNIVersion(versionText), CNIVersion.supported.contains(version) else {
            throw ConfigError(.incompatibleVersion, field: "cniVersion", "\"\(versionText.messageExcerpt)\" is not supported; supported: \(Self.supportedList)")
        }
        return version
    }

    static func decodeBackend(_ fields: JSONFields) throws(ConfigError) -> BackendKind {
        let backendName = try fields.string("backend") ?? BackendKind.iptables.rawValue
        guard let backend = BackendKind(rawValue: backendName) else {
            throw ConfigError(.invalidValue, field: "backend", "\"\(backendName.messageExcerpt)\" is not a backend (iptables, nftables)")
        }
        return backend
    }

    private static var supportedList: String {
        CNIVersion.supported.map(\.description).joined(separator: ", ")
    }

    /// `runtimeConfig.portMappings`, each validated, with no `<hostIP, hostPort, protocol>` claimed
    /// twice in a family: a second identical DNAT would be silently unreachable. No hostIP, 0.0.0.0
    /// and :: all claim "every address" of the families they apply to.
    static func decodeMappings(_ fields: JSONFields) throws(ConfigError) -> [PortMapping] {
        guard let runtime = try fields.object("runtimeConfig"),
            let elements = try runtime.array("portMappings")
        else { return [] }
        guard elements.count <= maxPortMappings else {
            throw ConfigError(
                .invalidValue, field: runtime.fieldPath("portMappings"),
                "\(elements.count) mappings; at most \(maxPortMappings) are accepted")
        }
        var mappings: [PortMapping] = []
        var firstIndex: [ClaimKey: Int] = [:]
        for (index, element) in elements.enumerated() {
            let path = "\(runtime.fieldPath("portMappings"))[\(index)]"
            guard case .object(let object) = element else {
                throw ConfigError(.decoding, field: path, "expected an object, found \(element.kindName)")
            }
            let mapping = try PortMapping(JSONFields(object, path: path))
            for family in IPFamily.allCases where mapping.applies(to: family) {
                let key = ClaimKey(family: family, address: mapping.boundAddress, hostPort: mapping.hostPort, protocol: mapping.protocol)
                if let first = firstIndex[key] {
                    throw ConfigError(
                        .invalidValue, field: path,
                        "duplicates portMappings[\(first)]: \(mapping.protocol.rawValue) port \(mapping.hostPort) on \(mapping.boundAddress?.description ?? "all \(family == .ipv4 ? "IPv4" : "IPv6") addresses") is claimed twice"
                    )
                }
                firstIndex[key] = index
            }
            mappings.append(mapping)
        }
        return mappings
    }

    private struct ClaimKey: Hashable {
        var family: IPFamily
        var address: IPAddress?
        var hostPort: UInt16
        var `protocol`: TransportProtocol
    }
}
