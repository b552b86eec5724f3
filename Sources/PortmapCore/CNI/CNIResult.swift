/// A previous plugin's result (`prevResult`): kept as JSON, so that fields this plugin does not know
/// are passed on untouched, plus the typed view this plugin needs (interfaces and IPs).
public struct CNIResult: Sendable, Equatable {
    public struct Interface: Sendable, Equatable {
        public var name: String
        public var sandbox: String
    }

    public struct IP: Sendable, Equatable {
        public var address: IPNetwork
        /// Index into `interfaces`, when the result says which interface holds the address.
        public var interface: Int?
    }

    public private(set) var json: JSONObject
    public let interfaces: [Interface]
    public let ips: [IP]

    /// Decodes the typed view of `json` found at `path`.
    init(_ json: JSONObject, path: String) throws(ConfigError) {
        let fields = JSONFields(json, path: path)
        var interfaces: [Interface] = []
        for (index, element) in (try fields.array("interfaces") ?? []).enumerated() {
            let entry = try Self.object(element, "\(fields.fieldPath("interfaces"))[\(index)]")
            interfaces.append(Interface(name: try entry.string("name") ?? "", sandbox: try entry.string("sandbox") ?? ""))
        }
        var ips: [IP] = []
        for (index, element) in (try fields.array("ips") ?? []).enumerated() {
            let entry = try Self.object(element, "\(fields.fieldPath("ips"))[\(index)]")
            guard let text = try entry.string("address") else {
                throw ConfigError(.decoding, field: entry.fieldPath("address"), "is required")
            }
            guard let address = IPNetwork(text) else {
                throw ConfigError(.decoding, field: entry.fieldPath("address"), "\"\(text.messageExcerpt)\" is not an address in CIDR form")
            }
            ips.append(IP(address: address, interface: try entry.integer("interface")))
        }
        self.json = json
        self.interfaces = interfaces
        self.ips = ips
    }

    private static func object(_ value: JSONValue, _ path: String) throws(ConfigError) -> JSONFields {
        guard case .object(let members) = value else {
            throw ConfigError(.decoding, field: path, "expected an object, found \(value.kindName)")
        }
        return JSONFields(members, path: path)
    }

    /// The container's address of each family, chosen as the Go plugin chooses it: the first IP of
    /// that family, skipping IPs whose interface is known and is not `ifName` inside a sandbox.
    public func containerAddresses(ifName: String) -> [IPFamily: IPNetwork] {
        var chosen: [IPFamily: IPNetwork] = [:]
        for ip in ips where chosen[ip.address.family] == nil {
            if let index = ip.interface, interfaces.indices.contains(index),
                interfaces[index].name != ifName || interfaces[index].sandbox.isEmpty
            {
                continue
            }
            chosen[ip.address.family] = ip.address
        }
        return chosen
    }

    /// The result as the request's version expects it: `cniVersion` set, and each IP's `version`
    /// field present before 1.0.0 and absent from 1.0.0 on (the only shape change between 0.3.0 and
    /// 1.1.0 that touches what a portmap result carries).
    /// Keys are found as Go finds them (`GoFieldName`) and written under their own names.
    public func converted(to version: CNIVersion) -> JSONObject {
        var output = json
        output.setGoField("cniVersion", .string(version.description))
        guard case .array(let entries)? = output.goField("ips") else { return output }
        output.setGoField(
            "ips",
            .array(
                entries.enumerated().map { index, entry in
                    guard case .object(var ip) = entry else { return entry }
                    ip.setGoField("version", version < CNIVersion.unversionedIPs ? .string(ips[index].address.family == .ipv4 ? "4" : "6") : nil)
                    return .object(ip)
                }))
        return output
    }
}
