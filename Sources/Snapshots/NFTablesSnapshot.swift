import PortmapCore

/// One family's `cni_portmaps` table as read back from the kernel: what CHECK compares with the
/// plan and what `hostports` lists. Elements whose comment is not an owner this plugin writes keep
/// it as read.
public struct NFTablesSnapshot: Sendable, Equatable {
    public var family: IPFamily
    /// False when the family has no `cni_portmaps` table (nothing is created to read it).
    public var exists: Bool
    /// The chains present, by name.
    public var chains: [String]
    public var elements: [NFTablesElement]

    public init(family: IPFamily, exists: Bool, chains: [String] = [], elements: [NFTablesElement] = []) {
        self.family = family
        self.exists = exists
        self.chains = chains
        self.elements = elements
    }
}
