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

/// `route_localnet` and bridge ports read from scratch trees laid out as /proc/sys and sysfs lay
/// them out, and, as root, from the kernel's own files for a bridge in a namespace of its own.
struct InterfaceFilesTests {
    /// /sys/class/net as sysfs shows it: a bridge has a `bridge` directory, and `brif/<port>` links
    /// to the port's `brport` directory. vethC's link dangles: a port gone while being read.
    static func classNet(hairpinOfB: String = "0\n") throws -> ScratchTree {
        let tree = try ScratchTree(files: [
            "cni0/bridge/stp_state": "0\n",
            "vethA/brport/hairpin_mode": "1\n",
            "vethB/brport/hairpin_mode": hairpinOfB,
            "eth0/mtu": "1500\n",
        ])
        for port in ["vethB", "vethA", "vethC"] {
            try tree.link("cni0/brif/\(port)", to: "../../\(port)/brport")
        }
        return tree
    }

    @Test func bridgePortsWithTheirHairpinModeByName() throws {
        let classNet = try Self.classNet()
        #expect(
            try InterfaceFiles(classNet: classNet.root).bridgePorts(of: "cni0")
                == [BridgePort(name: "vethA", hairpin: true), BridgePort(name: "vethB", hairpin: false)])
    }

    /// A device that is not a bridge, or that no longer exists, has no ports to show.
    @Test(arguments: ["eth0", "vethA", "gone0"])
    func notABridge(_ name: String) throws {
        let classNet = try Self.classNet()
        #expect(try InterfaceFiles(classNet: classNet.root).bridgePorts(of: name) == nil)
    }

    @Test func hairpinModeThatIsNoNumberIsAnError() throws {
        let classNet = try Self.classNet(hairpinOfB: "on\n")
        let path = "\(classNet.root)/cni0/brif/vethB/hairpin_mode"
        #expect(throws: HostNetworkError(operation: "read \(path): \"on\" is not a number", errno: EINVAL, message: "Invalid argument")) {
            try InterfaceFiles(classNet: classNet.root).bridgePorts(of: "cni0")
        }
    }

    /// `all` always, each interface once; one without the file (gone) is left out; any non-zero
    /// value is on, as the kernel reads it.
    @Test func routeLocalnetOfAllAndTheNamedInterfaces() throws {
        let procSys = try ScratchProcSys(interfaces: ["all": "0\n", "cni0": "1\n", "eth0.100": "0\n", "vh.2": "2\n", "eth1": "1\n"])
        #expect(
            try InterfaceFiles(procSys: procSys.root).routeLocalnet(of: ["cni0", "eth0.100", "gone0", "cni0", "vh.2"])
                == ["all": false, "cni0": true, "eth0.100": false, "vh.2": true])
    }

    /// As root: a bridge made in a namespace of its own, with hairpin on one of its two ports, read
    /// by a thread inside that namespace. /proc/sys follows the thread; /sys/class/net follows the
    /// mount, so the thread mounts a sysfs of its namespace's own on a scratch directory.
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
        let mountPoint = try ScratchTree()
        let inside = try NamespaceThread.run(in: try namespaces.namespace(name)) { () throws(HostNetworkError) in
            guard mount("sysfs", mountPoint.root, "sysfs", 0, nil) == 0 else { throw .ofLastCall("mount sysfs on \(mountPoint.root)") }
            defer { umount2(mountPoint.root, Int32(MNT_DETACH)) }
            let files = InterfaceFiles(classNet: "\(mountPoint.root)/class/net")
            return (ports: try files.bridgePorts(of: "hpw-br"), routeLocalnet: try files.routeLocalnet(of: ["hpw-br"]))
        }.get()
        #expect(inside.ports == [BridgePort(name: "hpw-a", hairpin: false), BridgePort(name: "hpw-b", hairpin: true)])
        #expect(inside.routeLocalnet["hpw-br"] == true)
        // The node's own files know nothing of it.
        #expect(try InterfaceFiles().bridgePorts(of: "hpw-br") == nil)
        #expect(try InterfaceFiles().routeLocalnet(of: ["hpw-br"])["hpw-br"] == nil)
    }
}
