/// Offsets and sizes of the kernel's rule entry structures (`struct ipt_entry`, `struct
/// ip6t_entry`, `struct xt_entry_match/target`) on Linux, as the Swift codec writes them. The C
/// shim pins the same numbers with `_Static_assert`s against the installed headers, and a unit test
/// compares both sides.
enum EntryLayout {
    /// Matches and targets start with a 32-byte header: u16 size, char name[29], u8 revision.
    static let extensionHeaderSize = 32
    static let extensionNameSize = 29

    struct Family {
        let headerSize: Int
        let addressSize: Int
        let source: Int
        let destination: Int
        let sourceMask: Int
        let destinationMask: Int
        let inInterface: Int
        let outInterface: Int
        let inInterfaceMask: Int
        let outInterfaceMask: Int
        let proto: Int
        /// ip6t only: IP6T_F_PROTO must be set for the protocol to be matched at all.
        let flags: Int?
        let invertFlags: Int
        let targetOffset: Int
        let nextOffset: Int
    }

    static let ipv4 = Family(
        headerSize: 112, addressSize: 4, source: 0, destination: 4, sourceMask: 8,
        destinationMask: 12, inInterface: 16, outInterface: 32, inInterfaceMask: 48,
        outInterfaceMask: 64, proto: 80, flags: nil, invertFlags: 83,
        targetOffset: 88, nextOffset: 90)
    static let ipv6 = Family(
        headerSize: 168, addressSize: 16, source: 0, destination: 16, sourceMask: 32,
        destinationMask: 48, inInterface: 64, outInterface: 80, inInterfaceMask: 96,
        outInterfaceMask: 112, proto: 128, flags: 131, invertFlags: 132,
        targetOffset: 140, nextOffset: 142)

    /// IPT_INV_* / IP6T_INV_* (same values in both families).
    enum Invert {
        static let inInterface: UInt8 = 0x01
        static let outInterface: UInt8 = 0x02
        static let source: UInt8 = 0x08
        static let destination: UInt8 = 0x10
        static let proto: UInt8 = 0x40
    }

    /// IP6T_F_PROTO.
    static let ipv6ProtoFlag: UInt8 = 0x01
}
