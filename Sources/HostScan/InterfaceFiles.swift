import Netlink
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The interface settings `hostports` reads from files: `route_localnet` under /proc/sys, and the
/// ports of a bridge with their `hairpin_mode` under /sys/class/net. The roots move for tests.
///
/// /proc/sys/net shows the reading thread's network namespace; /sys/class/net the namespace of
/// whoever mounted sysfs, the node's for a process of the node, whichever thread reads it.
public struct InterfaceFiles: Sendable {
    let procSys: String
    let classNet: String

    public init(procSys: String = "/proc/sys", classNet: String = "/sys/class/net") {
        self.procSys = procSys
        self.classNet = classNet
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

    /// The ports of `interface` with their `hairpin_mode`, sorted by name; nil when it is not a
    /// bridge (no `bridge` directory) or no longer exists. A port gone while being read is left out.
    public func bridgePorts(of interface: String) throws(HostNetworkError) -> [BridgePort]? {
        let device = "\(classNet)/\(interface)"
        guard access("\(device)/bridge", F_OK) == 0 else {
            if errno == ENOENT { return nil }
            throw .ofLastCall("look for \(device)/bridge")
        }
        var ports: [BridgePort] = []
        for name in try DirectoryEntries.names(in: "\(device)/brif")?.sorted() ?? [] {
            if let hairpin = try flag(at: "\(device)/brif/\(name)/hairpin_mode") {
                ports.append(BridgePort(name: name, hairpin: hairpin))
            }
        }
        return ports
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
