/// The CNI protocol for this plugin: environment and stdin in, result or error out.
///
/// Pure given a backend, so every verb, every error code and every output byte is tested without
/// root; this is also the one place where lower layers' typed errors become `CNIError`s.
public struct PortmapPlugin {
    public let backend: any PortMapBackend
    /// Printed to stderr when run by hand without `CNI_COMMAND`.
    public let about: String

    public init(backend: any PortMapBackend, about: String) {
        self.backend = backend
        self.about = about
    }

    public func run(environment: [String: String], stdin: [UInt8]) -> PluginOutput {
        if (environment["CNI_COMMAND"] ?? "").isEmpty {
            let versions = CNIVersion.supported.map(\.description).joined(separator: ", ")
            return PluginOutput(stderr: "\(about)\nCNI protocol versions supported: \(versions)\n")
        }
        var requestVersion = CNIVersion.latest
        do {
            let env = try CNIEnvironment(environment)
            if env.command == .version {
                return PluginOutput(stdout: Self.versionJSON)
            }
            let config = try Self.decode(stdin)
            requestVersion = config.cniVersion
            return PluginOutput(stdout: try execute(env, config))
        } catch {
            return PluginOutput(stdout: Self.errorJSON(error, version: requestVersion), exitCode: 1)
        }
    }

    /// Runs one verb; returns what goes to stdout.
    private func execute(_ env: CNIEnvironment, _ config: PortMapConfig) throws(CNIError) -> String {
        let addresses = config.prevResult?.containerAddresses(ifName: env.ifName) ?? [:]
        let request = PortMapRequest(config: config, containerID: env.containerID, containerAddresses: addresses)
        switch env.command {
        case .add:
            guard let prevResult = config.prevResult else { throw Self.missingPrevResult }
            if !config.portMappings.isEmpty {
                try Self.mapping { () throws(BackendError) in try backend.add(request) }
            }
            return JSONValue.object(prevResult.converted(to: config.cniVersion)).serialized()
        case .check:
            guard config.cniVersion >= CNIVersion.check else {
                throw CNIError(.incompatibleCNIVersion, "config version does not allow CHECK",
                               details: "cniVersion \(config.cniVersion) < \(CNIVersion.check)")
            }
            guard config.prevResult != nil else { throw Self.missingPrevResult }
            if !config.portMappings.isEmpty {
                try Self.mapping { () throws(BackendError) in try backend.check(request) }
            }
            return ""
        case .delete:
            if !config.portMappings.isEmpty {
                try Self.mapping { () throws(BackendError) in try backend.delete(request) }
            }
            return ""
        case .gc, .status:
            // CNI 1.1 GC and STATUS come with their own semantics (issue 5); until then, say so
            // instead of pretending success.
            throw CNIError(.unsupportedField, "\(env.command.rawValue) is not implemented by this plugin yet")
        case .version:
            return Self.versionJSON
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

    static func decode(_ stdin: [UInt8]) throws(CNIError) -> PortMapConfig {
        let json: JSONValue
        do {
            json = try JSONParser.parse(stdin)
        } catch {
            throw CNIError(.decodingFailure, "failed to parse network configuration", details: error.description)
        }
        do {
            return try PortMapConfig(json: json)
        } catch {
            let code: CNIError.Code
            switch error.kind {
            case .decoding: code = .decodingFailure
            case .invalidValue: code = .invalidNetworkConfig
            case .unsupported: code = .unsupportedField
            case .incompatibleVersion: code = .incompatibleCNIVersion
            }
            throw CNIError(code, error.description)
        }
    }

    private static func mapping(_ body: () throws(BackendError) -> Void) throws(CNIError) {
        do {
            try body()
        } catch {
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
