import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `net.ipv4.conf.<interface>.route_localnet` under a /proc/sys root, read and written as a file.
///
/// The interface name goes into the path literally: `eth0.100` is one directory, where sysctl's
/// dotted syntax (and the Go plugin, which goes through it) would read `eth0/100`.
package struct RouteLocalnetSwitch {
    let procSys: String

    package init(procSys: String) {
        self.procSys = procSys
    }

    package func path(for interface: String) -> String {
        "\(procSys)/net/ipv4/conf/\(interface)/route_localnet"
    }

    /// Turns the switch on unless it already is, so an unchanged node sees no write. Returns
    /// whether it wrote.
    @discardableResult
    func enable(on interface: String) throws(HostNetworkError) -> Bool {
        let path = path(for: interface)
        guard try ProcSysFile.firstLine(of: path) != "1" else { return false }
        try ProcSysFile.store("1\n", at: path)
        return true
    }
}
