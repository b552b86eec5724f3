import PortmapCore

/// What `hostports explain` was asked about: `<addr>:<port>[/tcp|udp|sctp]`, IPv6 in brackets.
public struct ExplainTarget: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public var `protocol`: TransportProtocol

    public init(address: IPAddress, port: UInt16, protocol: TransportProtocol = .tcp) {
        self.address = address
        self.port = port
        self.protocol = `protocol`
    }

    /// Parses `192.0.2.1:8080`, `[2001:db8::1]:53/udp`; nil for anything else (port 0 included).
    public init?(parsing text: String) {
        var rest = Substring(text)
        var transport = TransportProtocol.tcp
        if let slash = rest.lastIndex(of: "/") {
            guard let parsed = TransportProtocol(name: String(rest[rest.index(after: slash)...])) else { return nil }
            transport = parsed
            rest = rest[..<slash]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { return nil }
        } else if host.contains(":") {
            return nil
        }
        guard let address = IPAddress(String(host)) else { return nil }
        self.init(address: address, port: port, protocol: transport)
    }

    public var description: String {
        let host = address.family == .ipv6 ? "[\(address)]" : address.description
        return "\(host):\(port)/\(`protocol`)"
    }
}

/// The packet path of one target, step by step, as `explain` prints it.
public struct Explanation: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        /// Steps in the order a packet meets them; the raw values are the JSON schema's.
        public enum Name: String, Sendable, Equatable {
            case address
            /// Every forwarder claiming the port, when another than the CNI portmap does.
            case owners
            case hook
            case entryRule = "entry-rule"
            case dnat
            case podRoute = "pod-route"
            case localhost
            case hairpin
            case listener
        }

        public enum Status: String, Sendable, Equatable {
            case ok
            /// The packet does not get through here.
            case fail
            /// It gets through, but something nearby is likely not what was meant.
            case warn
        }

        public var name: Name
        public var status: Status
        public var detail: String
        public var advice: String

        public init(_ name: Name, _ status: Status, _ detail: String, advice: String = "") {
            self.name = name
            self.status = status
            self.detail = detail
            self.advice = advice
        }
    }

    public var target: ExplainTarget
    public var steps: [Step]

    /// The first failing step: where the packet stops.
    public var failure: Step? { steps.first { $0.status == .fail } }

    /// One line: where the packet ends up, or where it stops.
    public var verdict: String
}
