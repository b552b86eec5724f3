/// What a verb asks of the kernel for one container.
public struct PortMapRequest: Sendable, Equatable {
    public var config: PortMapConfig
    public var containerID: String
    /// The container's address per family (from prevResult); empty for a DEL without prevResult.
    public var containerAddresses: [IPFamily: IPNetwork]

    public init(config: PortMapConfig, containerID: String, containerAddresses: [IPFamily: IPNetwork]) {
        self.config = config
        self.containerID = containerID
        self.containerAddresses = containerAddresses
    }
}

/// A kernel backend (iptables through libiptc, or nftables through libnftnl). Each verb is one atomic
/// commit per table; the backend plans with the core's pure planners and reads the kernel back.
/// The verbs that change the kernel return warnings: what the operator should know of a verb that
/// succeeded (printed on stderr).
public protocol PortMapBackend {
    /// Installs the container's mappings, replacing any stale rules of the same container.
    func add(_ request: PortMapRequest) throws(BackendError) -> [String]
    /// Verifies every rule the container needs is present, in the families it has addresses in.
    func check(_ request: PortMapRequest) throws(BackendError)
    /// Removes the container's rules in every family; what is already gone is success.
    func delete(_ request: PortMapRequest) throws(BackendError) -> [String]
    /// CNI GC: removes, in every family, the rules of each container of `network` that is not one
    /// of `validAttachments`, leaving other networks' rules and the shared chains alone. Goes on
    /// past a family that fails and throws the first failure.
    func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String]
    /// CNI STATUS: returns when an ADD of `config` could be served now; throws what stands in its
    /// way otherwise. Changes nothing the verbs would see.
    func status(_ config: PortMapConfig) throws(BackendError)
}

/// A backend failure; `PortmapPlugin` maps each kind to its CNI code (and every failure of
/// `status` to 50, "plugin not available").
public struct BackendError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The xtables lock stayed held by another process (CNI code 11, retry).
        case busy
        /// The kernel or libiptc refused an operation (CNI code 100).
        case kernel
        /// CHECK found rules missing or different (CNI code 101).
        case checkFailed
        /// The node lacks something the config names, e.g. its externalSetMarkChain (CNI code 7).
        case invalidConfig
    }

    public var kind: Kind
    public var message: String
    public var details: String

    public init(_ kind: Kind, _ message: String, details: String = "") {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { details.isEmpty ? message : "\(message): \(details)" }
}
