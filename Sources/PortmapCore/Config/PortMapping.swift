/// One entry of `runtimeConfig.portMappings` (CNI CONVENTIONS "portMappings"), validated.
public struct PortMapping: Sendable, Hashable {
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var `protocol`: TransportProtocol
    /// The protocol as the runtime spelled it ("TCP", "tcp"): the Go plugin groups its entry
    /// rules by this text, so one rule per spelling keeps the layout Go's.
    public var protocolSpelling: String
    /// nil when the runtime gave none (or ""); 0.0.0.0 / :: are kept, they select a family.
    public var hostIP: IPAddress?

    public init(
        hostPort: UInt16, containerPort: UInt16, protocol: TransportProtocol = .tcp, hostIP: IPAddress? = nil,
        protocolSpelling: String? = nil
    ) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.protocol = `protocol`
        self.protocolSpelling = protocolSpelling ?? `protocol`.rawValue
        self.hostIP = hostIP
    }

    /// Whether this mapping applies to a container address of `family`: a hostIP of the other
    /// family skips it there, exactly as upstream does.
    public func applies(to family: IPFamily) -> Bool {
        hostIP.map { $0.family == family } ?? true
    }

    /// The address the DNAT must be bound to (`-d hostIP/32`), or nil for every local address.
    public var boundAddress: IPAddress? {
        guard let hostIP, !hostIP.isUnspecified else { return nil }
        return hostIP
    }
}

extension PortMapping {
    /// Decodes and validates one mapping at `path`.
    init(_ fields: JSONFields) throws(ConfigError) {
        func port(_ key: String) throws(ConfigError) -> UInt16 {
            guard let value = try fields.integer(key) else {
                throw ConfigError(.invalidValue, field: fields.fieldPath(key), "is required")
            }
            guard (1...65535).contains(value) else {
                throw ConfigError(.invalidValue, field: fields.fieldPath(key), "\(value) is not a port number (1-65535)")
            }
            return UInt16(value)
        }
        let hostPort = try port("hostPort")
        let containerPort = try port("containerPort")
        var transport = TransportProtocol.tcp
        let spelling = try fields.string("protocol")
        if let name = spelling {
            guard let parsed = TransportProtocol(name: name) else {
                throw ConfigError(
                    .invalidValue, field: fields.fieldPath("protocol"),
                    "\"\(name.messageExcerpt)\" is not supported (tcp, udp or sctp)")
            }
            transport = parsed
        }
        var hostIP: IPAddress? = nil
        if let text = try fields.string("hostIP"), !text.isEmpty {
            guard let address = IPAddress(text) else {
                throw ConfigError(.invalidValue, field: fields.fieldPath("hostIP"), "\"\(text.messageExcerpt)\" is not an IP address")
            }
            hostIP = address
        }
        self.init(hostPort: hostPort, containerPort: containerPort, protocol: transport, hostIP: hostIP, protocolSpelling: spelling)
    }
}
