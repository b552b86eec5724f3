/// One attachment a runtime still considers valid, as listed for GC (SPEC "GC":
/// `cni.dev/valid-attachments`): the `CNI_CONTAINERID` and `CNI_IFNAME` of its ADD.
public struct GCAttachment: Sendable, Hashable {
    public var containerID: String
    /// Not needed by this plugin (its rules are per network and container), but part of the
    /// attachment's identity, so kept.
    public var ifName: String

    public init(containerID: String, ifName: String) {
        self.containerID = containerID
        self.ifName = ifName
    }
}

extension GCAttachment {
    /// The keys a runtime lists the valid attachments under: the SPEC's, and the one the 1.1.0
    /// SPEC text first used, which libcni still sends alongside (containernetworking/cni #1101).
    static let listKeys = ["cni.dev/valid-attachments", "cni.dev/attachments"]

    /// The attachments listed under either key, in order, each once; nil when neither key is there.
    /// A `null` list is an empty one: that is what libcni sends for a runtime's nil list, which Go
    /// reads as "no attachment is valid".
    ///
    /// Every element must be an object with a `containerID` string that could have been a
    /// `CNI_CONTAINERID` (anything else would make GC guess which containers to keep).
    static func decodeLists(_ fields: JSONFields) throws(ConfigError) -> [GCAttachment]? {
        var found = false
        var attachments: [GCAttachment] = []
        var seen: Set<GCAttachment> = []
        for key in listKeys {
            guard let value = fields.member(key) else { continue }
            found = true
            if case .null = value { continue }
            guard let elements = try fields.array(key) else { continue }
            for (index, element) in elements.enumerated() {
                let attachment = try GCAttachment(element, path: "\(fields.fieldPath(key))[\(index)]")
                if seen.insert(attachment).inserted { attachments.append(attachment) }
            }
        }
        return found ? attachments : nil
    }

    init(_ element: JSONValue, path: String) throws(ConfigError) {
        guard case .object(let members) = element else {
            throw ConfigError(.decoding, field: path, "expected an object, found \(element.kindName)")
        }
        let fields = JSONFields(members, path: path)
        guard let containerID = try fields.string("containerID") else {
            throw ConfigError(.invalidValue, field: fields.fieldPath("containerID"), "is required")
        }
        guard CNIEnvironment.isValidName(containerID) else {
            throw ConfigError(
                .invalidValue, field: fields.fieldPath("containerID"),
                "\"\(containerID.messageExcerpt)\" is not a container ID (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)")
        }
        self.init(containerID: containerID, ifName: try fields.string("ifname") ?? "")
    }
}
