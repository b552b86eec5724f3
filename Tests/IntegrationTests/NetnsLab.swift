import Foundation
import TestSubprocess

/// A node and a client in their own network namespaces, joined by a veth pair, plus pods attached
/// to the node by Debian's bridge + host-local and our (or the Go) portmap. Everything it creates
/// is removed by `tearDown()`, which each test calls in a `defer`.
///
/// Addresses: node 192.0.2.1 and .2 (a second address, for the hostIP tests), 2001:db8:1::1 and
/// ::2; client 192.0.2.10 and 2001:db8:1::10; pods from the conflist's ranges (10.88/10.89,
/// 2001:db8:89::/64). All of it lives only inside these namespaces.
final class NetnsLab {
    struct Pod {
        let name: String
        let containerID: String
        let mappings: [[String: Any]]
        let result: Any
        let chain: CNIChain
        let server: Subprocess.Background

        /// The pod's first address of a family, from the ADD result.
        func address(v6: Bool) -> String? {
            let ips = (result as? [String: Any])?["ips"] as? [[String: Any]] ?? []
            let address = ips.compactMap { $0["address"] as? String }.first { $0.contains(":") == v6 }
            return address.map { String($0.split(separator: "/")[0]) }
        }
    }

    static let nodeIPv4 = "192.0.2.1", secondNodeIPv4 = "192.0.2.2", clientIPv4 = "192.0.2.10"
    static let nodeIPv6 = "2001:db8:1::1", secondNodeIPv6 = "2001:db8:1::2", clientIPv6 = "2001:db8:1::10"
    /// A host behind the node (`addRemoteHost`), which the client reaches through the node.
    static let remoteIPv4 = "198.51.100.2", remoteIPv6 = "2001:db8:2::2"

    let id: String
    let node: String
    let client: String
    let dataDir: URL
    let legacyBin: URL
    /// The veth pair: the node's end and the client's.
    let nodeLink: String
    let clientLink: String
    private(set) var pods: [Pod] = []
    /// Every namespace of the lab (`pmt-<id>-<suffix>`), deleted at teardown.
    private let namespaces = TestNamespaces(prefix: "pmt")

    /// A node namespace, with kubelet's `KUBE-KUBELET-CANARY` chain in the mangle table of `kubelet`'s
    /// store (both families), as kubelet leaves it on a node, or none (a node without Kubernetes).
    /// The default, legacy, is a node whose iptables is legacy: the iptables backend writes there
    /// without being told, as the Go plugin of `CNIChain` and `DirectPortmap` does with its PATH.
    init(kubelet: Store? = .legacy) throws {
        id = namespaces.tag
        node = "pmt-\(id)-node"
        client = "pmt-\(id)-client"
        dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("pmt-\(id)")
        legacyBin = dataDir.appendingPathComponent("bin")
        nodeLink = "pmtn\(id.prefix(8))"
        clientLink = "pmtc\(id.prefix(8))"
        do {
            try FileManager.default.createDirectory(at: legacyBin, withIntermediateDirectories: true)
            for tool in ["iptables", "ip6tables"] {
                try FileManager.default.createSymbolicLink(
                    atPath: legacyBin.appendingPathComponent(tool).path,
                    withDestinationPath: "/usr/sbin/\(tool)-legacy")
            }
            try addNamespace("node")
            try addNamespace("client")
            for setting in [
                "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
            ] {
                try Command.check(["ip", "netns", "exec", node, "sysctl", "-qw", setting])
            }
            let nodeSide = nodeLink
            let clientSide = clientLink
            try Command.check(["ip", "link", "add", nodeSide, "netns", node, "type", "veth", "peer", "name", clientSide, "netns", client])
            try inNode("ip", "addr", "add", "\(Self.nodeIPv4)/24", "dev", nodeSide)
            try inNode("ip", "addr", "add", "\(Self.secondNodeIPv4)/24", "dev", nodeSide)
            try inNode("ip", "-6", "addr", "add", "\(Self.nodeIPv6)/64", "dev", nodeSide, "nodad")
            try inNode("ip", "-6", "addr", "add", "\(Self.secondNodeIPv6)/64", "dev", nodeSide, "nodad")
            try inNode("ip", "link", "set", nodeSide, "up")
            try inClient("ip", "addr", "add", "\(Self.clientIPv4)/24", "dev", clientSide)
            try inClient("ip", "-6", "addr", "add", "\(Self.clientIPv6)/64", "dev", clientSide, "nodad")
            try inClient("ip", "link", "set", clientSide, "up")
            if let kubelet {
                for tool in ["iptables", "ip6tables"] {
                    try inNode("\(tool)-\(kubelet.rawValue)", "-t", "mangle", "-N", "KUBE-KUBELET-CANARY")
                }
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// Adds `pmt-<id>-<suffix>` with its loopback up; its name.
    @discardableResult
    private func addNamespace(_ suffix: String) throws -> String {
        let name = try namespaces.add(suffix)
        try namespaces.exec(name, ["ip", "link", "set", "lo", "up"])
        return name
    }

    @discardableResult
    func inNode(_ arguments: String...) throws -> Command.Result {
        try Command.check(["ip", "netns", "exec", node] + arguments)
    }

    @discardableResult
    func inClient(_ arguments: String...) throws -> Command.Result {
        try Command.check(["ip", "netns", "exec", client] + arguments)
    }

    /// A host on a second link of the node (198.51.100.0/24, 2001:db8:2::/64), routed to by the
    /// client through the node: transit traffic. Returns its namespace.
    func addRemoteHost() throws -> String {
        let remote = try addNamespace("remote")
        let nodeSide = "pmtr\(id.prefix(8))"
        let remoteSide = "pmtx\(id.prefix(8))"
        try Command.check(["ip", "link", "add", nodeSide, "netns", node, "type", "veth", "peer", "name", remoteSide, "netns", remote])
        try inNode("ip", "addr", "add", "198.51.100.1/24", "dev", nodeSide)
        try inNode("ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", nodeSide, "nodad")
        try inNode("ip", "link", "set", nodeSide, "up")
        for arguments in [
            ["ip", "addr", "add", "\(Self.remoteIPv4)/24", "dev", remoteSide],
            ["ip", "-6", "addr", "add", "\(Self.remoteIPv6)/64", "dev", remoteSide, "nodad"],
            ["ip", "link", "set", remoteSide, "up"],
            ["ip", "route", "add", "default", "via", "198.51.100.1"],
            ["ip", "-6", "route", "add", "default", "via", "2001:db8:2::1"],
        ] {
            try Command.check(["ip", "netns", "exec", remote] + arguments)
        }
        try inClient("ip", "route", "add", "198.51.100.0/24", "via", Self.nodeIPv4)
        try inClient("ip", "-6", "route", "add", "2001:db8:2::/64", "via", Self.nodeIPv6)
        return remote
    }

    /// A chain over `conf/<file>` for this lab (its own IPAM directory, and a bridge per conflist
    /// named after the file's two-digit prefix, since each list puts its own gateway on it).
    func chain(_ file: String, portmap: CNIChain.Portmap = .ours, overrides: [String: Any] = [:]) throws -> CNIChain {
        try CNIChain(
            conf: file, portmap: portmap, node: node, bridge: bridge(file),
            dataDir: dataDir.appendingPathComponent("ipam").path, legacyPath: legacyBin.path,
            portmapOverrides: overrides)
    }

    /// The bridge `chain(file)` attaches pods to.
    func bridge(_ file: String) -> String { "pmtb\(id.prefix(8))\(file.prefix(2))" }

    /// Creates a pod namespace, runs the chain's ADD for it and starts its echo server on every
    /// containerPort of `mappings` (logging what arrives over UDP to `udpLog` when given).
    @discardableResult
    func addPod(_ name: String, chain: CNIChain, mappings: [[String: Any]], udpLog: String? = nil) throws -> Pod {
        let netns = try addNamespace(name)
        for setting in ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"] {
            try Command.check(["ip", "netns", "exec", netns, "sysctl", "-qw", setting])
        }
        let containerID = "pmt\(id)\(name)"
        let result = try chain.add(containerID: containerID, netns: netns, mappings: mappings)
        var ports: [String] = []
        for mapping in mappings {
            let port = "\(mapping["containerPort"] as! Int)"
            ports += [(mapping["protocol"] as? String ?? "tcp").lowercased() == "udp" ? "--udp" : "--tcp", port]
        }
        let server = try Subprocess.Background(
            [
                "ip", "netns", "exec", netns, "python3",
                Prerequisites.scripts.appendingPathComponent("pod_server.py").path,
                "--name", name,
            ] + ports + (udpLog.map { ["--log", $0] } ?? []))
        let pod = Pod(name: netns, containerID: containerID, mappings: mappings, result: result, chain: chain, server: server)
        pods.append(pod)
        return pod
    }

    /// DEL through the pod's chain (portmap first, then bridge).
    @discardableResult
    func deletePod(_ pod: Pod) throws -> [Command.Result] {
        pod.server.stop()
        let results = try pod.chain.run("DEL", containerID: pod.containerID, netns: pod.name, mappings: pod.mappings, prevResult: pod.result)
        pods.removeAll { $0.name == pod.name }
        return results
    }

    /// The pod goes away the way a crashed runtime leaves it: its server stops and its namespace is
    /// deleted, with no CNI DEL. Its rules stay in the node namespace and go with it at teardown.
    func abandonPod(_ pod: Pod) throws {
        pod.server.stop()
        try namespaces.delete(pod.name)
        pods.removeAll { $0.name == pod.name }
    }

    /// One request from `namespace` (default: the client) to host:port; the answer, or nil.
    func probe(_ proto: String, _ host: String, _ port: Int, from namespace: String? = nil, sourcePort: Int? = nil) throws -> String? {
        var arguments = [
            "ip", "netns", "exec", namespace ?? client, "python3",
            Prerequisites.scripts.appendingPathComponent("probe.py").path, proto, host, String(port),
            "--timeout", "1", "--tries", "3",
        ]
        if let sourcePort { arguments += ["--source-port", String(sourcePort)] }
        let result = try Command.run(arguments)
        return result.succeeded ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// The node's conntrack table, one entry a line (/proc/net/nf_conntrack of the node namespace).
    func conntrack() throws -> [String] {
        try inNode("cat", "/proc/net/nf_conntrack").stdout.split(separator: "\n").map(String.init)
    }

    /// A node's IPv4 sysctl under /proc/sys/net/ipv4/conf/<interface>/.
    func interfaceSetting(_ interface: String, _ name: String) throws -> String {
        try inNode("cat", "/proc/sys/net/ipv4/conf/\(interface)/\(name)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Which iptables variant's tables a test reads.
    enum Store: String {
        case legacy
        case nft
    }

    /// The node's nat (or other) table as `iptables-legacy-save` (or `iptables-nft-save`) prints
    /// it, without the timestamp comments and with counters zeroed.
    func natTable(v6: Bool = false, table: String = "nat", store: Store = .legacy) throws -> String {
        let tool = "\(v6 ? "ip6tables" : "iptables")-\(store.rawValue)-save"
        return Self.withoutCountersAndComments(try inNode(tool, "-t", table).stdout)
    }

    /// Every legacy table of both families in the node, the way `natTable` prints one, after the
    /// names of the tables that exist (`-t` is not given, since naming a table creates it), then
    /// the whole nftables ruleset.
    func rulesets() throws -> String {
        let names = try ["ip", "ip6"].map { try inNode("cat", "/proc/net/\($0)_tables_names").stdout }
        let rules = try ["iptables-legacy-save", "ip6tables-legacy-save"].map { Self.withoutCountersAndComments(try inNode($0).stdout) }
        return (names + rules + [try inNode("nft", "list", "ruleset").stdout]).joined(separator: "\n")
    }

    private static func withoutCountersAndComments(_ save: String) -> String {
        save.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "[0:0]", options: .regularExpression) }
            .joined(separator: "\n")
    }

    /// `Fixtures/fake_kernel_files.c` built into the lab's directory, for LD_PRELOAD: the files
    /// the plugin's kernel probes read, as another kernel would have them.
    func fakeKernelFiles() throws -> String {
        let library = dataDir.appendingPathComponent("fake_kernel_files.so").path
        if !FileManager.default.fileExists(atPath: library) {
            try Command.check(["gcc", "-shared", "-fPIC", "-o", library, Prerequisites.fixtures.appendingPathComponent("fake_kernel_files.c").path, "-ldl"])
        }
        return library
    }

    /// Removes the pods (best effort DEL so IPAM and bridge state go too) and every namespace.
    func tearDown() {
        for pod in pods {
            pod.server.stop()
            _ = try? pod.chain.run("DEL", containerID: pod.containerID, netns: pod.name, mappings: pod.mappings, prevResult: pod.result)
        }
        pods = []
        namespaces.deleteAll()
        try? FileManager.default.removeItem(at: dataDir)
    }
}
