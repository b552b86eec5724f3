import Snapshots

/// The rtnetlink dump of bridge ports as Swift values: the request `bridge link` makes, and a port
/// read back from its reply. One dump gives every port of every bridge with its hairpin mode, where
/// /sys/class/net took two file reads a port (and followed the sysfs mount, not the namespace).
enum BridgeLinkMessages {
    /// RTM_GETLINK with NLM_F_DUMP for AF_BRIDGE: each bridge port, with its bridge and options.
    /// Without IFLA_EXT_MASK (which `bridge link` adds for VLAN and VF data) the bridges
    /// themselves are left out.
    static let dumpRequest = NetlinkRequest(
        type: Kernel.BridgeLink.getMessage, flags: Kernel.Flags.dump,
        header: .link(family: Kernel.BridgeLink.family), attributes: [])

    /// A port and the index of its bridge; nil for other messages and for a message without a
    /// name, a bridge or the port's options.
    static func port(from message: ReplyMessage) -> (bridge: UInt32, port: BridgePort)? {
        guard message.type == Kernel.BridgeLink.newMessage else { return nil }
        let attributes = message.attributes(afterHeader: Kernel.ifinfomsgSize)
        guard let name = attributes.first(where: { $0.type == Kernel.BridgeLink.name })?.string,
            let bridge = attributes.first(where: { $0.type == Kernel.BridgeLink.master })?.u32,
            let options = attributes.first(where: { $0.type == Kernel.BridgeLink.portOptions })
        else { return nil }
        let hairpin = options.nested.first { $0.type == Kernel.BridgeLink.hairpin }?.u8
        return (bridge, BridgePort(name: name, hairpin: (hairpin ?? 0) != 0))
    }
}
