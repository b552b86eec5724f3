import PortmapCore

extension IPAddress {
    /// 127.0.0.0/8 or ::1: addresses that never leave the node.
    public var isLoopback: Bool {
        switch self {
        case .v4(let value): return value >> 24 == 127
        case .v6(let high, let low): return high == 0 && low == 1
        }
    }
}
