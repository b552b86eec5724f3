/// The `CNI_*` environment of one invocation, validated for its verb as the SPEC (and libcni's skel)
/// require: a runtime that forgot a variable gets code 4 naming it, before stdin is even decoded.
public struct CNIEnvironment: Sendable, Equatable {
    public var command: CNICommand
    public var containerID: String
    public var netns: String
    public var ifName: String
    public var args: String
    public var path: String

    /// Which variables each verb requires (SPEC "Parameters"; CNI_NETNS is optional for DEL). A
    /// switch, not a dictionary keyed by `CNICommand`: instantiating that type at run time means a
    /// scan of every protocol conformance in the binary, on every invocation.
    private static func required(for command: CNICommand) -> [String] {
        switch command {
        case .add, .check: return ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]
        case .delete: return ["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"]
        case .gc, .status: return ["CNI_PATH"]
        case .version: return []
        }
    }

    public init(
        command: CNICommand, containerID: String = "", netns: String = "", ifName: String = "",
        args: String = "", path: String = ""
    ) {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.path = path
    }

    /// Reads and validates the environment. `CNI_COMMAND` missing is reported like any missing
    /// variable; the caller decides to print the "about" line instead.
    public init(_ environment: [String: String]) throws(CNIError) {
        let value = { (name: String) in environment[name] ?? "" }
        guard let command = CNICommand(rawValue: value("CNI_COMMAND")) else {
            if value("CNI_COMMAND").isEmpty {
                throw CNIError(.invalidEnvironmentVariables, "required env variables [CNI_COMMAND] missing")
            }
            throw CNIError(
                .invalidEnvironmentVariables, "unknown CNI_COMMAND: \(value("CNI_COMMAND"))",
                details: "expected one of ADD, CHECK, DEL, GC, STATUS, VERSION")
        }
        let missing = Self.required(for: command).filter { value($0).isEmpty }
        guard missing.isEmpty else {
            throw CNIError(
                .invalidEnvironmentVariables,
                "required env variables [\(missing.joined(separator: ","))] missing")
        }
        self.init(
            command: command, containerID: value("CNI_CONTAINERID"), netns: value("CNI_NETNS"),
            ifName: value("CNI_IFNAME"), args: value("CNI_ARGS"), path: value("CNI_PATH"))
        switch command {
        case .add, .check, .delete:
            guard Self.isValidName(containerID) else {
                throw CNIError(
                    .invalidEnvironmentVariables, "invalid characters in CNI_CONTAINERID",
                    details: containerID)
            }
            try Self.validateInterfaceName(ifName)
        case .gc, .status, .version:
            break
        }
    }

    /// Container IDs and network names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, as libcni enforces. They end up
    /// in rule comments and chain-name hashes, so nothing else may pass.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// Linux interface names: 1–15 bytes, not "." or "..", no '/', ':' or whitespace.
    private static func validateInterfaceName(_ name: String) throws(CNIError) {
        if name.utf8.count > 15 {
            throw CNIError(
                .invalidEnvironmentVariables, "CNI_IFNAME is too long",
                details: "interface name should be less than 16 characters: \(name)")
        }
        if name == "." || name == ".." || name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) {
            throw CNIError(.invalidEnvironmentVariables, "CNI_IFNAME is not a valid interface name", details: name)
        }
    }
}
