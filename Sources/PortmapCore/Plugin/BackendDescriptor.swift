/// One backend as the plugin's executable registers it: the kind the config's `backend` names
/// (with the keys only it reads, `BackendKind.ownedKeys`) and how to make it for one run from
/// the run's environment. Adding a backend is its module, its kind and one descriptor in
/// `portmap/main.swift`'s list.
public struct BackendDescriptor: Sendable {
    public let kind: BackendKind
    public let make: @Sendable (_ environment: [String: String]) -> any PortMapBackend

    public init(kind: BackendKind, make: @escaping @Sendable (_ environment: [String: String]) -> any PortMapBackend) {
        self.kind = kind
        self.make = make
    }
}
