/// A port of a Linux bridge and its hairpin_mode (IFLA_BRPORT_MODE of its bridge link).
public struct BridgePort: Sendable, Hashable {
    public var name: String
    public var hairpin: Bool

    public init(name: String, hairpin: Bool) {
        self.name = name
        self.hairpin = hairpin
    }
}
