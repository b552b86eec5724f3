/// The CNI protocol for this plugin: environment and stdin in, result or error out.
///
/// Pure given a backend, so every verb, every error code and every output byte is tested without
/// root; this is also the one place where lower layers' typed errors become `CNIError`s.
public struct PortmapPlugin {
    /// The backends, one per kind: the config's `backend` key picks one once it is decoded.
    public let backends: [BackendKind: BackendDescriptor]
    /// Conntrack and route_localnet; nil where the node is not to be touched (the fake binary).
    public let hostNetwork: (any HostNetwork)?
    /// Printed to stderr when run by hand without `CNI_COMMAND`.
    public let about: String

    /// `backends` must hold a descriptor for every `BackendKind`.
    public init(backends: [BackendDescriptor], hostNetwork: (any HostNetwork)?, about: String) {
        let byKind = Dictionary(backends.map { ($0.kind, $0) }) { first, _ in first }
        precondition(BackendKind.allCases.allSatisfy { byKind[$0] != nil }, "a backend kind without a descriptor")
        self.backends = byKind
        self.hostNetwork = hostNetwork
        self.about = about
    }

    /// One backend serving every `backend` value (the fake binary's and the tests'), whatever
    /// the environment; a run is one thread, so sharing it is safe.
    public init(backend: any PortMapBackend, hostNetwork: (any HostNetwork)?, about: String) {
        nonisolated(unsafe) let shared = backend
        self.init(
            backends: BackendKind.allCases.map { kind in BackendDescriptor(kind: kind) { _ in shared } },
            hostNetwork: hostNetwork, about: about)
    }

    /// `stdin` is not looked at for VERSION (nor when run by hand): the edge need not read it.
    public func run(environment: [String: String], stdin: StandardInput) -> PluginOutput {
        if (environment["CNI_COMMAND"] ?? "").isEmpty {
            let versions = CNIVersion.supported.map(\.description).joined(separator: ", ")
            return PluginOutput(stderr: "\(about)\nCNI protocol versions supported: \(versions)\n")
        }
        var requestVersion = CNIVersion.latest
        do throws(CNIError) {
            let env = try CNIEnvironment(environment)
            if env.command == .version {
                return PluginOutput(stdout: Self.versionJSON)
            }
            let json = try Self.parse(Self.configBytes(stdin))
            // Merged as Go reads it once; the version and each decoding read the same fields.
            let fields = try Self.mapping { () throws(ConfigError) in try PortMapConfig.topLevelFields(json) }
            // An error answers in the request's version as soon as it can be read (SPEC: the
            // error's cniVersion), even when the config is refused for another reason.
            requestVersion = Self.requestedVersion(fields) ?? requestVersion
            let (config, warning) = try Self.decode(fields, for: env.command)
            var output = try execute(env, config, environment: environment)
            output.stderr = warning + output.stderr
            return output
        } catch {
            return PluginOutput(stdout: Self.errorJSON(error, version: requestVersion), exitCode: 1)
        }
    }

    /// Runs one verb.
    private func execute(_ env: CNIEnvironment, _ config: PortMapConfig, environment: [String: String]) throws(CNIError) -> PluginOutput {
        let addresses = config.prevResult?.containerAddresses(ifName: env.ifName) ?? [:]
        let request = PortMapRequest(config: config, containerID: env.containerID, containerAddresses: addresses)
        guard let backend = backends[config.backend]?.make(environment) else { preconditionFailure("init checks every kind has one") }
        switch env.command {
        case .add:
            guard let prevResult = config.prevResult else { throw Self.missingPrevResult }
            var warnings = ""
            if !config.portMappings.isEmpty {
                try enableLocalnetRouting(request)
                warnings = Self.warningLines(try Self.mapping { () throws(BackendError) in try backend.add(request) })
                // A UDP "connection" conntracked before this ADD (say, to the pod this one
                // replaces) would keep its old destination until it times out.
                warnings += flushUDPConntrack(config, families: addresses.keys.sorted())
            }
            return PluginOutput(stdout: JSONValue.object(prevResult.converted(to: config.cniVersion)).serialized(), stderr: warnings)
        case .check:
            try Self.require(CNIVersion.check, for: env.command, config)
            guard config.prevResult != nil else { throw Self.missingPrevResult }
            if !config.portMappings.isEmpty {
                try Self.mapping { () throws(BackendError) in try backend.check(request) }
            }
            return PluginOutput()
        case .delete:
            var warnings = ""
            if config.listsMappings {
                warnings = Self.warningLines(try Self.mapping { () throws(BackendError) in try backend.delete(request) })
                // Upstream flushes only on ADD, so a UDP client keeps talking to the deleted pod's
                // address until its entry times out. Without prevResult, both families.
                warnings += flushUDPConntrack(config, families: addresses.isEmpty ? IPFamily.allCases : addresses.keys.sorted())
            }
            return PluginOutput(stderr: warnings)
        case .gc:
            try Self.require(CNIVersion.gcAndStatus, for: env.command, config)
            // Without the list, every container of the network would look stale.
            guard let attachments = config.validAttachments else {
                throw CNIError(.invalidNetworkConfig, "GC needs cni.dev/valid-attachments: the list of attachments to keep")
            }
            // The rules only; conntrack entries of removed containers time out on their own.
            let warnings = try Self.mapping { () throws(BackendError) in try backend.gc(network: config.name, validAttachments: attachments) }
            return PluginOutput(stderr: Self.warningLines(warnings))
        case .status:
            try Self.require(CNIVersion.gcAndStatus, for: env.command, config)
            try Self.mapping(status: true) { () throws(BackendError) in try backend.status(config) }
            return PluginOutput()
        case .version:
            return PluginOutput(stdout: Self.versionJSON)
        }
    }

    /// `127.0.0.1:hostPort` needs route_localnet on the interface towards the pod (IPv4, with
    /// snat, which masquerades the 127.0.0.1 source), set before the rules as upstream does, so a
    /// failure leaves no rule behind.
    private func enableLocalnetRouting(_ request: PortMapRequest) throws(CNIError) {
        guard let hostNetwork, request.config.snat, let container = request.containerAddresses[.ipv4] else { return }
        do {
            _ = try hostNetwork.enableLocalnetRouting(toward: container.address)
        } catch {
            throw CNIError(.hostNetworkFailure, "cannot enable route_localnet towards \(container.address)", details: error.description)
        }
    }

    /// Deletes stale UDP conntrack entries to the mapped ports. Best effort: the rules are in
    /// place, so a failure is a warning on stderr, not a failed verb.
    private func flushUDPConntrack(_ config: PortMapConfig, families: [IPFamily]) -> String {
        guard let hostNetwork else { return "" }
        var warnings = ""
        for family in families {
            let destinations = ConntrackDestination.udp(of: config, family: family)
            guard !destinations.isEmpty else { continue }
            do {
                _ = try hostNetwork.flushUDPConntrack(family: family, destinations: destinations)
            } catch {
                warnings += "portmap: warning: could not flush \(family) UDP conntrack entries: \(error)\n"
            }
        }
        return warnings
    }

    /// A backend's warnings as stderr lines.
    private static func warningLines(_ warnings: [String]) -> String {
        warnings.map { "portmap: warning: \($0)\n" }.joined()
    }

    /// CHECK came with 0.4.0, GC and STATUS with 1.1.0: a config of an older version cannot ask for them.
    private static func require(_ version: CNIVersion, for command: CNICommand, _ config: PortMapConfig) throws(CNIError) {
        guard config.cniVersion >= version else {
            throw CNIError(
                .incompatibleCNIVersion, "config version does not allow \(command.rawValue)",
                details: "cniVersion \(config.cniVersion) < \(version)")
        }
    }

    private static let missingPrevResult = CNIError(
        .invalidNetworkConfig, "prevResult is required: portmap must be chained after a plugin that assigns the container's addresses")

    static var versionJSON: String {
        let versions = JSONValue.array(CNIVersion.supported.map { .string($0.description) })
        return JSONValue.object(JSONObject([("cniVersion", .string(CNIVersion.latest.description)), ("supportedVersions", versions)]))
            .serialized(indent: nil) + "\n"
    }

    // MARK: - The one place typed errors become CNI errors

    /// The config's bytes, or the error for stdin that could not be read or was too long.
    private static func configBytes(_ stdin: StandardInput) throws(CNIError) -> [UInt8] {
        switch stdin {
        case .bytes(let bytes):
            return bytes
        case .unreadable(let reason):
            throw CNIError(.ioFailure, "cannot read the network configuration from stdin", details: reason)
        case .oversized:
            throw CNIError(
                .decodingFailure, "the network configuration on stdin is longer than \(StandardInput.byteLimit) bytes",
                details: "reading stopped there; a portmap configuration is a few KiB")
        }
    }

    static func parse(_ stdin: [UInt8]) throws(CNIError) -> JSONValue {
        do {
            return try JSONParser.parse(stdin)
        } catch {
            throw CNIError(.decodingFailure, "failed to parse network configuration", details: error.description)
        }
    }

    /// The config's `cniVersion` when it is one this plugin speaks.
    static func requestedVersion(_ fields: JSONFields) -> CNIVersion? {
        guard let text = (try? fields.string("cniVersion")) ?? nil,
            let version = CNIVersion(text), CNIVersion.supported.contains(version)
        else { return nil }
        return version
    }

    static func decode(_ stdin: [UInt8]) throws(CNIError) -> PortMapConfig {
        try decode(parse(stdin))
    }

    /// DEL and GC fall back to the teardown decoding when ADD's validation refuses the config,
    /// with a warning on stderr that says why.
    static func decode(_ fields: JSONFields, for command: CNICommand) throws(CNIError) -> (PortMapConfig, warning: String) {
        do {
            return (try mapping { () throws(ConfigError) in try PortMapConfig(fields: fields) }, "")
        } catch {
            guard command == .delete || command == .gc else { throw error }
            let config = try mapping { () throws(ConfigError) in try PortMapConfig(teardownFields: fields) }
            return (config, "portmap: warning: \(command.rawValue) of a config ADD would refuse (\(error.msg)): removing by network name and container ID\n")
        }
    }

    static func decode(_ json: JSONValue) throws(CNIError) -> PortMapConfig {
        try mapping { () throws(ConfigError) in try PortMapConfig(json: json) }
    }

    private static func mapping<Value>(_ body: () throws(ConfigError) -> Value) throws(CNIError) -> Value {
        do {
            return try body()
        } catch {
            let code: CNIError.Code
            switch error.kind {
            case .decoding: code = .decodingFailure
            case .invalidValue: code = .invalidNetworkConfig
            case .incompatibleVersion: code = .incompatibleCNIVersion
            }
            throw CNIError(code, error.description)
        }
    }

    /// With `status`, any failure is STATUS's answer "cannot serve ADD now" (50), whatever its kind.
    private static func mapping<Value>(status: Bool = false, _ body: () throws(BackendError) -> Value) throws(CNIError) -> Value {
        do {
            return try body()
        } catch {
            guard !status else { throw CNIError(.pluginNotAvailable, error.message, details: error.details) }
            let code: CNIError.Code
            switch error.kind {
            case .busy: code = .tryAgainLater
            case .kernel: code = .rulesetFailure
            case .checkFailed: code = .checkFailed
            case .invalidConfig: code = .invalidNetworkConfig
            }
            throw CNIError(code, error.message, details: error.details)
        }
    }

    static func errorJSON(_ cniError: CNIError, version: CNIVersion) -> String {
        var object = JSONObject([
            ("cniVersion", .string(version.description)),
            ("code", .number(JSONNumber(Int(cniError.code.rawValue)))),
            ("msg", .string(cniError.msg)),
        ])
        if !cniError.details.isEmpty { object["details"] = .string(cniError.details) }
        return JSONValue.object(object).serialized()
    }
}
