/// A port of a Linux bridge, from /sys/class/net/<bridge>/brif/<port>/hairpin_mode.
public struct BridgePort: Sendable, Hashable {
    public var name: String
    public var hairpin: Bool

    public init(name: String, hairpin: Bool) {
        self.name = name
        self.hairpin = hairpin
    }
}
