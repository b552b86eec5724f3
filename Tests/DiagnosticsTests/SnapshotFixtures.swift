import Diagnostics
import PortmapCore
import Snapshots

/// Nat tables built the way the plugin builds them (through `IPTablesPlanner`), so the analysis is
/// tested on the exact layout the plugin and the Go plugin write, then edited per test to break it.
struct FixturePod {
    var network = "hostport-v4"
    var containerID: String
    var addresses: [String]
    var mappings: String
    var snat = true

    var config: PortMapConfig {
        let json = """
            {"cniVersion": "1.0.0", "name": "\(network)", "type": "portmap", "snat": \(snat),
             "runtimeConfig": {"portMappings": [\(mappings)]}}
            """
        return try! PortMapConfig(json: try! JSONParser.parse(Array(json.utf8)))
    }
}

enum SnapshotFixtures {
    static let builtIn = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]

    /// The nat table of `family` after ADDing `pods` in order.
    static func natTable(_ family: IPFamily, _ pods: [FixturePod]) -> NatTableSnapshot {
        var chains = builtIn.map { NatTableSnapshot.Chain(name: $0, rules: []) }
        func index(_ name: String) -> Int {
            if let found = chains.firstIndex(where: { $0.name == name }) { return found }
            chains.append(.init(name: name, rules: []))
            return chains.count - 1
        }
        for pod in pods {
            for address in pod.addresses.compactMap(IPNetwork.init) where address.family == family {
                let plan = IPTablesPlanner.plan(pod.config, containerID: pod.containerID, container: address)
                for chain in plan.chains {
                    let own = index(chain.name)
                    if chain.ownership == .container { chains[own].rules = chain.rules }
                    for rule in chain.rules where !chains[own].rules.contains(rule) { chains[own].rules.append(rule) }
                    for entryChain in chain.entryChains {
                        let at = index(entryChain)
                        for rule in chain.entryRules where !chains[at].rules.contains(rule) {
                            if chain.prependEntry { chains[at].rules.insert(rule, at: 0) } else { chains[at].rules.append(rule) }
                        }
                    }
                }
            }
        }
        return NatTableSnapshot(family: family, exists: true, chains: chains)
    }

    static func snapshot(_ pods: [FixturePod], listeners: [ListeningSocket] = []) -> NodeSnapshot {
        let podAddresses = pods.flatMap(\.addresses).compactMap { IPNetwork($0)?.address }
        var routes: [IPAddress: RouteFact] = [:]
        for address in podAddresses {
            routes[address] = RouteFact(kind: .unicast, outputInterface: "cni-hp0")
        }
        return NodeSnapshot(
            tables: [.nat(natTable(.ipv4, pods)), .nat(natTable(.ipv6, pods))],
            listeners: listeners,
            localAddresses: ["127.0.0.1", "::1", "192.0.2.1", "192.0.2.2", "2001:db8::1", "10.88.0.1"].map { IPAddress($0)! },
            routes: routes,
            routeLocalnet: ["all": false, "cni-hp0": true],
            bridges: ["cni-hp0": [BridgePort(name: "veth1", hairpin: true), BridgePort(name: "veth2", hairpin: true)]],
            podNamespaceAddresses: Set(podAddresses))
    }

    static let web = FixturePod(
        containerID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        addresses: ["10.88.0.2/24", "2001:db8:88::2/64"],
        mappings: #"{"hostPort": 8080, "containerPort": 80}, {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}"#)
    static let bound = FixturePod(
        containerID: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        addresses: ["10.88.0.3/24"],
        mappings: #"{"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.2"}"#)
}

extension NodeSnapshot {
    /// Applies `edit` to the rules of `chain` in `family`'s nat table.
    mutating func editChain(_ chain: String, _ family: IPFamily, _ edit: (inout [IPTablesRule]) -> Void) {
        editNatTable(family) { table in
            let at = table.chains.firstIndex { $0.name == chain }!
            edit(&table.chains[at].rules)
        }
    }

    /// Applies `edit` to `family`'s nat table.
    mutating func editNatTable(_ family: IPFamily, _ edit: (inout NatTableSnapshot) -> Void) {
        let index = tables.firstIndex { if case .nat(let table) = $0 { table.family == family } else { false } }!
        guard case .nat(var table) = tables[index] else { return }
        edit(&table)
        tables[index] = .nat(table)
    }

    /// Applies `edit` to `family`'s nftables table.
    mutating func editNFTable(_ family: IPFamily, _ edit: (inout NFTablesSnapshot) -> Void) {
        let index = tables.firstIndex { if case .nftables(let table) = $0 { table.family == family } else { false } }!
        guard case .nftables(var table) = tables[index] else { return }
        edit(&table)
        tables[index] = .nftables(table)
    }
}

extension SnapshotFixtures {
    static let nftChains = ["hostports", "prerouting", "output", "postrouting", "localnet_guard"]

    /// The nftables backend's table of `family` after ADDing `pods` (configured for it).
    static func nftTable(_ family: IPFamily, _ pods: [FixturePod]) -> NFTablesSnapshot {
        let elements = pods.flatMap { pod in
            pod.addresses.compactMap(IPNetwork.init).filter { $0.family == family }.flatMap { address in
                NFTablesPlanner.plan(pod.config, containerID: pod.containerID, container: address).elements
            }
        }
        return NFTablesSnapshot(family: family, exists: true, chains: family == .ipv4 ? nftChains : nftChains.dropLast(), elements: elements)
    }

    /// A node whose pods are all in nftables (the legacy tables exist but hold nothing).
    static func nftSnapshot(_ pods: [FixturePod], legacy: [FixturePod] = []) -> NodeSnapshot {
        var snapshot = snapshot(pods + legacy)
        snapshot.tables = [.nat(natTable(.ipv4, legacy)), .nat(natTable(.ipv6, legacy)), .nftables(nftTable(.ipv4, pods)), .nftables(nftTable(.ipv6, pods))]
        return snapshot
    }
}
