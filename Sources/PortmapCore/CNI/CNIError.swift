/// The error object a CNI plugin prints on stdout (SPEC "Error"): `code`, `msg`, `details`.
///
/// Lower layers throw their own typed errors; they become a `CNIError` in exactly one place
/// (`PortmapPlugin`), so every message an operator sees names the field, value or rule at fault.
public struct CNIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Code
    public var msg: String
    public var details: String

    public init(_ code: Code, _ msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    public var description: String {
        details.isEmpty ? "CNI error \(code.rawValue): \(msg)" : "CNI error \(code.rawValue): \(msg); \(details)"
    }

    /// Error codes: 0–99 are reserved by the SPEC, 100 and up are this plugin's own.
    public struct Code: RawRepresentable, Sendable, Hashable {
        public let rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }

        /// 1: the config's cniVersion is not one this plugin speaks.
        public static let incompatibleCNIVersion = Code(rawValue: 1)
        /// 4: a required `CNI_*` environment variable is missing or invalid.
        public static let invalidEnvironmentVariables = Code(rawValue: 4)
        /// 5: reading stdin failed.
        public static let ioFailure = Code(rawValue: 5)
        /// 6: stdin is not JSON of the expected shape.
        public static let decodingFailure = Code(rawValue: 6)
        /// 7: the config decodes but a value is invalid.
        public static let invalidNetworkConfig = Code(rawValue: 7)
        /// 11: transient; the runtime should retry (a backend's lock is held elsewhere, or nftables
        /// kept changing under the batch).
        public static let tryAgainLater = Code(rawValue: 11)
        /// 50: STATUS: the plugin cannot service ADD requests now.
        public static let pluginNotAvailable = Code(rawValue: 50)
        /// 100: the kernel refused or failed a ruleset operation.
        public static let rulesetFailure = Code(rawValue: 100)
        /// 101: CHECK found the container's rules missing or different.
        public static let checkFailed = Code(rawValue: 101)
        /// 102: a netlink or /proc/sys operation on the node failed (route_localnet).
        public static let hostNetworkFailure = Code(rawValue: 102)
    }
}
