import Netlink
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The interface settings `hostports` reads from files: `route_localnet` under /proc/sys, which
/// shows the reading thread's network namespace. The root moves for tests. (Bridge ports come
/// from netlink: /sys/class/net shows the namespace of whoever mounted sysfs.)
public struct InterfaceFiles: Sendable {
    let procSys: String

    public init(procSys: String = "/proc/sys") {
        self.procSys = procSys
    }

    /// `route_localnet` of `all` and of each of `interfaces`, by name. An interface without the
    /// file (gone since it was named) is left out. The kernel honours either switch: `all` or the
    /// interface's own.
    public func routeLocalnet(of interfaces: [String]) throws(HostNetworkError) -> [String: Bool] {
        let files = RouteLocalnetSwitch(procSys: procSys)
        var settings: [String: Bool] = [:]
        for name in ["all"] + interfaces where settings[name] == nil {
            settings[name] = try flag(at: files.path(for: name))
        }
        return settings
    }

    /// A file holding a number, read as a switch (non-zero is on); nil when there is no such file.
    private func flag(at path: String) throws(HostNetworkError) -> Bool? {
        let line: String
        do {
            line = try ProcSysFile.firstLine(of: path)
        } catch let error where error.errno == .noSuchFileOrDirectory {
            return nil
        }
        guard let value = Int(line) else { throw HostNetworkError(operation: "read \(path): \"\(line)\" is not a number", errno: EINVAL) }
        return value != 0
    }
}
