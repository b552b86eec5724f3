import Diagnostics
import PortmapCore
import Snapshots
import Testing

/// The other port forwarders' nat layouts, read beside the CNI portmap's: each row names its
/// owner, a port two owners claim is a conflict that names the one PREROUTING reaches first, and
/// kube-proxy's node ports compete with hostPorts on the same address.
@Suite struct ForwarderDiagnosticsTests {
    /// A node whose IPv4 nat table is `rules` (iptables-save lines) on top of the CNI `pods`.
    static func snapshot(_ rules: String, pods: [FixturePod] = [], listeners: [ListeningSocket] = []) -> NodeSnapshot {
        var snapshot = SnapshotFixtures.snapshot(pods, listeners: listeners)
        let foreign = SaveFile.natTable(parsing: rules, family: .ipv4)
        snapshot.editNatTable(.ipv4) { table in
            for chain in foreign.chains {
                if let at = table.chains.firstIndex(where: { $0.name == chain.name }) {
                    table.chains[at].rules += chain.rules
                } else {
                    table.chains.append(chain)
                }
            }
        }
        for address in ["10.1.1.2", "10.1.1.4", "10.17.0.2", "10.89.0.5"].compactMap(IPAddress.init) {
            snapshot.routes[address] = RouteFact(kind: .unicast, outputInterface: "cni-hp0")
            snapshot.podNamespaceAddresses?.insert(address)
        }
        return snapshot
    }

    static let crio = """
        -A PREROUTING -m comment --comment "kube hostport portals" -m addrtype --dst-type LOCAL -j KUBE-HOSTPORTS
        -A OUTPUT -m comment --comment "kube hostport portals" -m addrtype --dst-type LOCAL -j KUBE-HOSTPORTS
        -A POSTROUTING -m comment --comment "kube hostport masquerading" -m conntrack --ctstate DNAT -j CRIO-HOSTPORTS-MASQ
        -A CRIO-HOSTPORTS-MASQ -m comment --comment "SNAT for localhost access to hostports" -o cbr0 -s 127.0.0.0/8 -j MASQUERADE
        -A CRIO-HOSTPORTS-MASQ -m comment --comment "pod1_ns1 hostport 8081" -j CRIO-MASQ-63UPIDJXVRSZGSUZ
        -A KUBE-HOSTPORTS -m comment --comment "pod1_ns1 hostport 8081" -m udp -p udp --dport 8081 -j KUBE-HP-63UPIDJXVRSZGSUZ
        -A KUBE-HOSTPORTS -m comment --comment "pod3_ns1 hostport 8443" -m tcp -p tcp --dport 8443 -j KUBE-HP-WFBOALXEP42XEMJK
        -A CRIO-MASQ-63UPIDJXVRSZGSUZ -m comment --comment "pod1_ns1 hostport 8081" -m conntrack --ctorigdstport 8081 -m udp -p udp --dport 81 -s 10.1.1.2/32 -d 10.1.1.2/32 -j MASQUERADE
        -A KUBE-HP-63UPIDJXVRSZGSUZ -m comment --comment "pod1_ns1 hostport 8081" -m udp -p udp -j DNAT --to-destination 10.1.1.2:81
        -A KUBE-HP-WFBOALXEP42XEMJK -m comment --comment "pod3_ns1 hostport 8443" -m tcp -p tcp -d 192.0.2.1/32 -j DNAT --to-destination 10.1.1.4:443
        """

    @Test func crioPodsAreNamedFromTheirComments() {
        let inventory = HostPortInventory(Self.snapshot(Self.crio))
        let rows = inventory.mappings.map { "\($0.owner) \($0.workload ?? "-") \($0.protocol)/\($0.hostIPText):\($0.hostPort) -> \($0.podIP):\($0.podPort)" }
        #expect(rows == ["cri-o pod1_ns1 udp/*:8081 -> 10.1.1.2:81", "cri-o pod3_ns1 tcp/192.0.2.1:8443 -> 10.1.1.4:443"])
        // pod1 has its CRIO-MASQ- chain, pod3 none; both get the localhost masquerade.
        #expect(inventory.mappings.map(\.hairpinMasquerade) == [true, false])
        #expect(inventory.mappings.map(\.localhostMasquerade) == [true, true])
        let table = inventory.tables.first { $0.owner == .crio }
        #expect(table.map { [$0.preroutingHook, $0.outputHook, $0.masqueradeHook] } == [true, true, true])
        #expect(ConflictFinder.findings(in: inventory).map(\.kind) == [])
    }

    @Test func crioChainWithoutEntryIsAnOrphan() {
        let rules =
            Self.crio.split(separator: "\n").filter { !$0.contains("-A KUBE-HOSTPORTS") && !$0.contains("--comment \"pod3") }
            .joined(separator: "\n") + "\n-A KUBE-HP-WFBOALXEP42XEMJK -p tcp -j DNAT --to-destination 10.1.1.4:443"
        let findings = ConflictFinder.findings(in: HostPortInventory(Self.snapshot(rules)))
        #expect(findings.map(\.kind) == [.orphanChain, .orphanChain])
        #expect(findings.first?.message.hasPrefix("cri-o in iptables-legacy nat (ipv4): KUBE-HP-63UPIDJXVRSZGSUZ has no entry rule in KUBE-HOSTPORTS") == true)
    }

    static let netavark = """
        -A PREROUTING -j NETAVARK-HOSTPORT-DNAT -m addrtype --dst-type LOCAL
        -A OUTPUT -j NETAVARK-HOSTPORT-DNAT -m addrtype --dst-type LOCAL
        -A POSTROUTING -j NETAVARK-HOSTPORT-MASQ
        -A NETAVARK-HOSTPORT-MASQ -j MASQUERADE -m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000
        -A NETAVARK-HOSTPORT-DNAT -j NETAVARK-DN-1D8721804F16F -p tcp --dport 8080 -m comment --comment "dnat name: podman id: 5fa3e1c0ffee5fa3e1c0ffee5fa3e1c0ffee5fa3e1c0ffee5fa3e1c0ffee1234"
        -A NETAVARK-DN-1D8721804F16F -j NETAVARK-HOSTPORT-SETMARK -s 10.89.0.0/24 -p tcp --dport 8080
        -A NETAVARK-DN-1D8721804F16F -j NETAVARK-HOSTPORT-SETMARK -s 127.0.0.1 -p tcp --dport 8080
        -A NETAVARK-DN-1D8721804F16F -j DNAT -p tcp --to-destination 10.89.0.5:80 --destination-port 8080
        """

    @Test func netavarkContainerAndNetworkFromTheEntryComment() {
        let inventory = HostPortInventory(Self.snapshot(Self.netavark, pods: [SnapshotFixtures.web]))
        let netavark = inventory.mappings.filter { $0.owner == .netavark }
        #expect(
            netavark.map { "\($0.network ?? "-")/\($0.containerID.map { String($0.prefix(12)) } ?? "-") \($0.hostPort) -> \($0.podIP)" } == [
                "podman/5fa3e1c0ffee 8080 -> 10.89.0.5"
            ])
        #expect(netavark.map { [$0.hairpinMasquerade, $0.localhostMasquerade] } == [[true, true]])
        // The CNI pod web maps 8080 too: PREROUTING jumps to CNI-HOSTPORT-DNAT first, so web answers.
        let findings = ConflictFinder.findings(in: inventory)
        #expect(findings.map(\.kind) == [.duplicateClaim])
        #expect(
            findings.first?.message
                == "tcp/8080 on every address is claimed by hostport-v4/aaaaaaaaaaaa and netavark podman/5fa3e1c0ffee; only hostport-v4/aaaaaaaaaaaa answers (PREROUTING jumps to cni-portmap's chain first)"
        )
    }

    static let docker = """
        -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
        -A POSTROUTING -s 10.17.0.2/32 -d 10.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
        -A DOCKER -i docker0 -j RETURN
        -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.17.0.2:80
        -A DOCKER -d 192.0.2.1/32 ! -i docker0 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.17.0.2:53
        """

    @Test func dockerPortsAreDockersAndItsProxyIsNoShadowedListener() {
        let proxy = ListeningSocket(protocol: .tcp, family: .ipv4, address: IPAddress("0.0.0.0")!, port: 8080, owners: [.init(pid: 7, command: "docker-proxy")])
        let inventory = HostPortInventory(Self.snapshot(Self.docker, listeners: [proxy]))
        #expect(
            inventory.mappings.map { "\($0.owner) \($0.protocol)/\($0.hostIPText):\($0.hostPort) -> \($0.podIP):\($0.podPort)" } == [
                "docker tcp/*:8080 -> 10.17.0.2:80", "docker udp/192.0.2.1:5353 -> 10.17.0.2:53",
            ])
        #expect(inventory.mappings.map(\.hairpinMasquerade) == [true, true])
        #expect(ConflictFinder.findings(in: inventory).map(\.kind) == [])
        // The same socket held by anything else is reported.
        let other = ListeningSocket(protocol: .tcp, family: .ipv4, address: IPAddress("0.0.0.0")!, port: 8080, owners: [.init(pid: 8, command: "nginx")])
        #expect(ConflictFinder.findings(in: HostPortInventory(Self.snapshot(Self.docker, listeners: [other]))).map(\.kind) == [.shadowedListener])
    }

    static let kubeProxy = """
        -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
        -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
        -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
        -A KUBE-SERVICES -d 192.0.2.10/32 -p tcp -m comment --comment "default/web:http external IP" -m tcp --dport 8080 -j KUBE-EXT-ABCDEFGHIJKLMNOP
        -A KUBE-SERVICES -d 203.0.113.5/32 -p tcp -m comment --comment "default/lb:https loadbalancer IP" -m tcp --dport 443 -j KUBE-EXT-QRSTUVWXYZ234567
        -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
        -A KUBE-NODEPORTS -p udp -m comment --comment "default/dns:dns" -m udp --dport 5353 -j KUBE-EXT-AAAAAAAAAAAAAAAA
        -A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-ABCDEFGHIJKLMNOP
        """

    @Test func kubeProxyNodePortsAndExternalIPs() {
        let inventory = HostPortInventory(Self.snapshot(Self.kubeProxy))
        #expect(inventory.mappings.isEmpty)
        #expect(
            inventory.servicePorts.map { "\($0.kind.rawValue) \($0.protocol)/\($0.address?.description ?? "*"):\($0.port) \($0.service ?? "-") \($0.reachable)" } == [
                "node-port udp/*:5353 default/dns:dns true", "node-port tcp/*:30080 default/web:http true",
                "external-ip tcp/192.0.2.10:8080 default/web:http true", "load-balancer-ip tcp/203.0.113.5:443 default/lb:https true",
            ])
    }

    @Test func hostPortOnANodePortIsAServicePortOverlap() {
        // web maps udp 5353 and tcp 8080 on every address: 5353 is a NodePort; 8080 is the port
        // of an external IP, 192.0.2.10, which web's wildcard takes only once the node holds it.
        // kube-proxy's jump is prepended, as kube-proxy does, so the Service answers.
        var snapshot = Self.snapshot(Self.kubeProxy, pods: [SnapshotFixtures.web])
        snapshot.editChain("PREROUTING", .ipv4) { rules in rules.insert(rules.removeLast(), at: 0) }
        let nodePort =
            "udp/5353 is kube-proxy's node-port default/dns:dns on every node address and hostport-v4/aaaaaaaaaaaa's hostPort on every address; the Service answers (PREROUTING jumps to KUBE-SERVICES first)"
        let externalIP =
            "tcp/8080 is kube-proxy's external-ip default/web:http on 192.0.2.10 and hostport-v4/aaaaaaaaaaaa's hostPort on every address; the Service answers (PREROUTING jumps to KUBE-SERVICES first)"
        func overlaps(_ snapshot: NodeSnapshot) -> [String] {
            ConflictFinder.findings(in: HostPortInventory(snapshot)).filter { $0.kind == .servicePortOverlap }.map(\.message)
        }
        #expect(overlaps(snapshot) == [nodePort])
        snapshot.localAddresses.append(IPAddress("192.0.2.10")!)
        #expect(overlaps(snapshot) == [nodePort, externalIP])
        // With the hostPort's chain jumped to first, the hostPort answers.
        snapshot.editChain("PREROUTING", .ipv4) { rules in rules.append(rules.removeFirst()) }
        #expect(overlaps(snapshot).first?.hasSuffix("the hostPort answers (PREROUTING jumps to its chain first)") == true)
    }

    /// explain names every forwarder on the port in the kernel's order: kube-proxy's jump first
    /// takes the packet, so the CNI pod never answers there; with the CNI chain first, the walk
    /// goes on through the CNI rules and the others are a warning; with Docker's first, its DNAT
    /// and its container's route are followed.
    @Test func explainNamesTheForwarderThatWins() {
        var snapshot = Self.snapshot(Self.kubeProxy + "\n" + Self.docker, pods: [SnapshotFixtures.web])
        snapshot.editChain("PREROUTING", .ipv4) { rules in
            let kube = rules.firstIndex { $0.target.jumpedChain == "KUBE-SERVICES" }!
            rules.insert(rules.remove(at: kube), at: 0)
        }
        let target = ExplainTarget(address: IPAddress("192.0.2.1")!, port: 5353, protocol: .udp)
        let taken = PacketPathExplainer.explain(target, in: HostPortInventory(snapshot))
        #expect(taken.steps.map(\.name) == [.address, .owners])
        #expect(
            taken.steps.last?.detail
                == "udp/5353 is claimed by 3 forwarder(s), tried in this order: 1. kube-proxy's node-port default/dns:dns (iptables-legacy nat ipv4); "
                + "2. hostport-v4/aaaaaaaaaaaa → 10.88.0.2:53 (cni-portmap, iptables-legacy nat ipv4); 3. docker container 10.17.0.2:53 → 10.17.0.2:53 (docker, iptables-legacy nat ipv4)"
        )
        #expect(taken.failure == nil && taken.verdict == "taken by kube-proxy's node-port default/dns:dns (iptables-legacy nat ipv4)")

        snapshot.editChain("PREROUTING", .ipv4) { rules in rules.append(rules.removeFirst()) }
        let cniFirst = PacketPathExplainer.explain(target, in: HostPortInventory(snapshot))
        #expect(cniFirst.steps.first { $0.name == .owners }?.status == .warn)
        #expect(cniFirst.verdict.hasPrefix("reaches 10.88.0.2:53"), "\(cniFirst.steps.map { "\($0.name) \($0.status) \($0.detail)" })")
        // Docker's jump first: its DNAT takes the packet, followed to its container, which a
        // namespace holds; once none does, the packet answers nowhere.
        snapshot.editChain("PREROUTING", .ipv4) { rules in
            let docker = rules.firstIndex { $0.target.jumpedChain == "DOCKER" }!
            rules.insert(rules.remove(at: docker), at: 0)
        }
        let docker = PacketPathExplainer.explain(target, in: HostPortInventory(snapshot))
        #expect(docker.steps.map(\.name) == [.address, .owners, .dnat, .podRoute], "\(docker.steps.map(\.detail))")
        #expect(
            docker.steps[2].detail.hasPrefix("-A DOCKER ")
                && docker.steps[2].detail.hasSuffix("DNAT to 10.17.0.2:53 (docker container 10.17.0.2:53, docker, iptables-legacy nat)"))
        #expect(docker.failure == nil && docker.verdict.hasSuffix("(docker, iptables-legacy nat ipv4): reaches 10.17.0.2:53"), "\(docker.verdict)")
        snapshot.podNamespaceAddresses?.remove(IPAddress("10.17.0.2")!)
        let gone = PacketPathExplainer.explain(target, in: HostPortInventory(snapshot))
        #expect(gone.failure?.name == .podRoute && gone.failure?.advice == "remove the container through docker, or its rules by hand")
        #expect(gone.verdict.hasPrefix("does not answer: no network namespace on this node holds 10.17.0.2"))

        // Without another forwarder on the port there is no owners step.
        let alone = PacketPathExplainer.explain(
            ExplainTarget(address: IPAddress("192.0.2.1")!, port: 8080), in: HostPortInventory(SnapshotFixtures.snapshot([SnapshotFixtures.web])))
        #expect(!alone.steps.contains { $0.name == .owners })
    }

    /// The readers decode the rules of `natChainsRead` only: every mapping, Service port and
    /// finding comes out the same as from the whole tables.
    @Test func theChainsReadAreAllTheInterpretersNeed() {
        let rules =
            [Self.crio, Self.netavark, Self.docker, Self.kubeProxy].joined(separator: "\n")
            + "\n-A KUBE-SVC-ABCDEFGHIJKLMNOP -j KUBE-SEP-ABCDEFGHIJKLMNOP\n-A KUBE-SEP-ABCDEFGHIJKLMNOP -p tcp -j DNAT --to-destination 10.244.0.5:80"
        let whole = Self.snapshot(rules, pods: [SnapshotFixtures.web, SnapshotFixtures.bound])
        var selected = whole
        var skipped = 0
        for family in IPFamily.allCases {
            selected.editNatTable(family) { table in
                for index in table.chains.indices where !HostPortInventory.natChainsRead.contains(table.chains[index].name) {
                    table.chains[index] = .init(name: table.chains[index].name, rules: [], rulesRead: false)
                    skipped += 1
                }
            }
        }
        #expect(skipped >= 3, "CNI-HOSTPORT-SETMARK and kube-proxy's per-Service chains are not read")
        let (a, b) = (HostPortInventory(whole), HostPortInventory(selected))
        #expect(a.mappings == b.mappings)
        #expect(a.servicePorts == b.servicePorts)
        #expect(ConflictFinder.findings(in: a) == ConflictFinder.findings(in: b))
        #expect(!a.mappings.isEmpty && !a.servicePorts.isEmpty)
    }

    @Test func metricsCountEveryOwnerAndKind() {
        let rules = [Self.crio, Self.netavark, Self.docker, Self.kubeProxy].joined(separator: "\n")
        let inventory = HostPortInventory(Self.snapshot(rules, pods: [SnapshotFixtures.web]))
        let text = MetricsReport.text(inventory, ConflictFinder.findings(in: inventory), seconds: 0.25)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("hostports_read_success 1"))
        #expect(lines.contains("hostports_read_duration_seconds 0.25"))
        for (owner, count) in [("cni-portmap", 2), ("cri-o", 2), ("netavark", 1), ("docker", 2)] {
            #expect(lines.contains("hostports_mappings{owner=\"\(owner)\",store=\"iptables-legacy\",family=\"ipv4\"} \(count)"), "\(owner)")
        }
        #expect(lines.contains("hostports_mappings{owner=\"cni-portmap\",store=\"iptables-legacy\",family=\"ipv6\"} 2"))
        #expect(lines.contains("hostports_service_ports{kind=\"node-port\",store=\"iptables-legacy\",family=\"ipv4\"} 2"))
        #expect(lines.filter { $0.hasPrefix("hostports_conflicts{") }.count == Finding.Kind.allCases.count)
        // NodePort udp/5353 against web's and docker's 5353 (192.0.2.10, the external IP, is not the node's).
        #expect(lines.contains("hostports_conflicts{kind=\"service-port-overlap\"} 2"))
        // Every sample's family has HELP and TYPE before it.
        let declared = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        for sample in lines where !sample.hasPrefix("#") {
            #expect(declared.contains(sample.prefix { $0 != "{" && $0 != " " }), "\(sample)")
        }
        #expect(MetricsReport.failure(seconds: 1.5).contains("hostports_read_success 0\n"))
    }
}
