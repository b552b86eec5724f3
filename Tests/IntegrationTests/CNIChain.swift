import Foundation
import TestSubprocess

/// Runs a conflist's plugins for one pod the way libcni does: each plugin gets the list's `name`
/// and `cniVersion`, `runtimeConfig.portMappings` when it declares the portMappings capability, and
/// the previous plugin's result as `prevResult`; DEL runs the list in reverse. Plugins run inside
/// the node namespace; CNI_NETNS names the pod's.
struct CNIChain {
    /// Which binary implements `portmap` in this chain.
    enum Portmap {
        case ours
        /// Debian's Go portmap 1.1.1.
        case go
        /// Upstream's Go portmap (`Prerequisites.upstreamPlugin`; only where it is there).
        case upstream

        var executable: URL {
            switch self {
            case .ours: Prerequisites.ourPlugin
            case .go: Prerequisites.goPlugin
            case .upstream:
                // Only tests enabled by `Prerequisites.upstreamPlugin` use it.
                Prerequisites.upstreamPlugin ?? URL(fileURLWithPath: "/nonexistent/portmap-go-3d27709f")
            }
        }
    }

    let list: [String: Any]
    let portmap: Portmap
    let node: String
    /// PATH for the Go plugin: legacy iptables first, so it writes the tables ours writes.
    let legacyPath: String
    /// The PATH the portmap plugin runs with, when not `legacyPath` ("" to prove ours runs no program).
    var portmapPath: String? = nil

    var name: String { list["name"] as! String }
    var version: String { list["cniVersion"] as! String }

    /// Loads `conf/<file>`, giving the bridge plugin its own bridge name and host-local its own
    /// data directory so concurrent labs never share state.
    init(
        conf file: String, portmap: Portmap, node: String, bridge: String, dataDir: String, legacyPath: String,
        portmapOverrides: [String: Any] = [:]
    ) throws {
        let data = try Data(contentsOf: Prerequisites.conf.appendingPathComponent(file))
        var list = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var plugins = list["plugins"] as! [[String: Any]]
        for index in plugins.indices {
            if plugins[index]["type"] as? String == "bridge" {
                plugins[index]["bridge"] = bridge
                var ipam = plugins[index]["ipam"] as! [String: Any]
                ipam["dataDir"] = dataDir
                plugins[index]["ipam"] = ipam
            }
            if plugins[index]["type"] as? String == "portmap" {
                plugins[index].merge(portmapOverrides) { $1 }
            }
        }
        list["plugins"] = plugins
        self.list = list
        self.portmap = portmap
        self.node = node
        self.legacyPath = legacyPath
    }

    var plugins: [[String: Any]] { list["plugins"] as! [[String: Any]] }

    /// The stdin a plugin receives.
    func config(for plugin: [String: Any], mappings: [[String: Any]], prevResult: Any?) throws -> Data {
        var config = plugin
        config["name"] = name
        config["cniVersion"] = version
        if let capabilities = plugin["capabilities"] as? [String: Bool], capabilities["portMappings"] == true {
            config["runtimeConfig"] = ["portMappings": mappings]
        }
        config["capabilities"] = nil
        if let prevResult { config["prevResult"] = prevResult }
        return try JSONSerialization.data(withJSONObject: config)
    }

    func executable(for plugin: [String: Any]) -> URL {
        let type = plugin["type"] as! String
        return type == "portmap" ? portmap.executable : Prerequisites.debianPlugins.appendingPathComponent(type)
    }

    /// Runs one plugin in the node namespace with a runtime's environment.
    func invoke(
        _ command: String, plugin: [String: Any], containerID: String, netns: String, stdin: Data,
        ifName: String = "eth0"
    ) throws -> Command.Result {
        var environment = [
            "CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=/var/run/netns/\(netns)",
            "CNI_IFNAME=\(ifName)", "CNI_PATH=\(Prerequisites.debianPlugins.path)",
        ]
        let path = plugin["type"] as? String == "portmap" ? portmapPath : nil
        environment.append("PATH=\(path ?? "\(legacyPath):/usr/sbin:/usr/bin:/sbin:/bin")")
        return try Command.run(
            ["ip", "netns", "exec", node, "env", "-i"] + environment + [executable(for: plugin).path],
            stdin: stdin)
    }

    /// ADD through the whole list; returns the final result.
    func add(containerID: String, netns: String, mappings: [[String: Any]]) throws -> Any {
        var result: Any? = nil
        for plugin in plugins {
            let output = try invoke(
                "ADD", plugin: plugin, containerID: containerID, netns: netns,
                stdin: try config(for: plugin, mappings: mappings, prevResult: result))
            guard output.succeeded else {
                throw Subprocess.Failure(
                    command: ["ADD", plugin["type"] as! String], reason: "exited \(output.status): \(output.stderr)\(output.stdout)")
            }
            result = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
        }
        return result!
    }

    /// CHECK or DEL through the list (DEL in reverse), each plugin given `prevResult`.
    func run(
        _ command: String, containerID: String, netns: String, mappings: [[String: Any]], prevResult: Any?,
        only type: String? = nil
    ) throws -> [Command.Result] {
        let order = command == "DEL" ? plugins.reversed() : plugins
        return try order.filter { type == nil || $0["type"] as? String == type }.map { plugin in
            try invoke(
                command, plugin: plugin, containerID: containerID, netns: netns,
                stdin: try config(for: plugin, mappings: mappings, prevResult: prevResult))
        }
    }
}
