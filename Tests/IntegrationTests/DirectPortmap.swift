import Foundation

/// Runs a portmap binary on its own in a lab's node namespace with a synthetic prevResult: rule
/// comparisons need no real pod, only the same network name, container id and addresses.
struct DirectPortmap {
    let lab: NetnsLab
    let portmap: CNIChain.Portmap
    /// The iptables the Go plugin runs (its PATH): legacy, as the lab makes it, or the system's
    /// default, iptables-nft.
    var iptables: NetnsLab.Store = .legacy

    static func config(
        network: String = "diff-net", mappings: [[String: Any]], addresses: [String],
        extra: [String: Any] = [:], version: String = "1.0.0"
    ) -> [String: Any] {
        var config: [String: Any] = [
            "cniVersion": version, "name": network, "type": "portmap",
            "runtimeConfig": ["portMappings": mappings],
            "prevResult": [
                "cniVersion": version,
                "interfaces": [["name": "eth0", "sandbox": "/var/run/netns/pod"]],
                "ips": addresses.map { ["address": $0, "interface": 0] },
            ],
        ]
        config.merge(extra) { $1 }
        return config
    }

    /// `env` replaces the runtime's variables (a nil value removes one); `killAfter` (seconds, as
    /// timeout(1) reads them) sends the plugin SIGKILL then.
    @discardableResult
    func run(
        _ command: String, _ config: [String: Any], containerID: String = "ctr-diff-1",
        env: [String: String?] = [:], killAfter: String? = nil
    ) throws -> Command.Result {
        try run(
            command, stdin: try JSONSerialization.data(withJSONObject: config), containerID: containerID, env: env,
            killAfter: killAfter)
    }

    @discardableResult
    func run(
        _ command: String?, stdin: Data, containerID: String = "ctr-diff-1", env: [String: String?] = [:],
        killAfter: String? = nil
    ) throws -> Command.Result {
        var variables: [String: String] = [
            "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/pod",
            "CNI_IFNAME": "eth0", "CNI_PATH": Prerequisites.debianPlugins.path,
            "PATH": (iptables == .legacy ? "\(lab.legacyBin.path):" : "") + "/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        if let command { variables["CNI_COMMAND"] = command }
        for (key, value) in env { variables[key] = value }
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let killer = killAfter.map { ["timeout", "-s", "KILL", $0] } ?? []
        return try Command.run(killer + ["ip", "netns", "exec", lab.node, "env", "-i"] + assignments + [portmap.executable.path], stdin: stdin)
    }
}
