import PortmapCore
import Snapshots
import TestSubprocess
import Testing

@testable import HostScan
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `route_localnet` read from scratch trees laid out as /proc/sys lays them out, and, as root, with
/// the bridge ports of a namespace of its own.
struct InterfaceFilesTests {
    /// `all` always, each interface once; one without the file (gone) is left out; any non-zero
    /// value is on, as the kernel reads it.
    @Test func routeLocalnetOfAllAndTheNamedInterfaces() throws {
        let procSys = try ScratchProcSys(interfaces: ["all": "0\n", "cni0": "1\n", "eth0.100": "0\n", "vh.2": "2\n", "eth1": "1\n"])
        #expect(
            try InterfaceFiles(procSys: procSys.root).routeLocalnet(of: ["cni0", "eth0.100", "gone0", "cni0", "vh.2"])
                == ["all": false, "cni0": true, "eth0.100": false, "vh.2": true])
    }

    /// As root: a bridge made in a namespace of its own, with hairpin on one of its two ports, read
    /// by a thread inside that namespace: its ports over netlink, its route_localnet from
    /// /proc/sys, which both follow the thread. The node's own reads know nothing of it.
    @Test(.enabled(if: RootPrerequisites.available, RootPrerequisites.reason))
    func bridgeInAnotherNamespace() throws {
        let namespaces = TestNamespaces()
        defer { namespaces.deleteAll() }
        let name = try namespaces.add("br")
        try Subprocess.check(["ip", "-n", name, "link", "add", "hpw-br", "type", "bridge"])
        for port in ["hpw-b", "hpw-a"] {
            try Subprocess.check(["ip", "-n", name, "link", "add", port, "type", "veth", "peer", "name", "\(port)-peer"])
            try Subprocess.check(["ip", "-n", name, "link", "set", port, "master", "hpw-br"])
        }
        try Subprocess.check(["ip", "-n", name, "link", "set", "hpw-b", "type", "bridge_slave", "hairpin", "on"])
        try namespaces.exec(name, "sysctl", "-qw", "net.ipv4.conf.hpw-br.route_localnet=1")
        let inside = try NamespaceThread.run(in: try namespaces.namespace(name)) { () throws(HostNetworkError) in
            (ports: try NetlinkNodeReader().bridgePorts(), routeLocalnet: try InterfaceFiles().routeLocalnet(of: ["hpw-br"]))
        }.get()
        #expect(inside.ports == ["hpw-br": [BridgePort(name: "hpw-a", hairpin: false), BridgePort(name: "hpw-b", hairpin: true)]])
        #expect(inside.routeLocalnet["hpw-br"] == true)
        #expect(try NetlinkNodeReader().bridgePorts()["hpw-br"] == nil)
        #expect(try InterfaceFiles().routeLocalnet(of: ["hpw-br"])["hpw-br"] == nil)
    }
}
