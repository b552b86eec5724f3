import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// Where the iptables backend writes when the config does not say (issue 15's rules a–d, in
    /// that order), read back with both variants' `-save`; and takeover both ways with real
    /// traffic, where ours follows the Go plugin's store.
    @Suite
    struct StoreSelectionTests {
        static func config(_ address: String, extra: [String: Any] = [:]) -> [String: Any] {
            DirectPortmap.config(
                mappings: [["hostPort": 8091, "containerPort": 80, "protocol": "tcp"]], addresses: ["10.88.0.\(address)/24", "2001:db8:89::\(address)/64"], extra: extra)
        }

        /// The stores whose nat tables (either family) name `containerID`.
        static func holders(_ lab: NetnsLab, _ containerID: String) throws -> [NetnsLab.Store] {
            try [NetnsLab.Store.legacy, .nft].filter { store in
                try [false, true].contains { v6 in try lab.natTable(v6: v6, store: store).contains(#"id: \"\#(containerID)\""#) }
            }
        }

        static func other(_ store: NetnsLab.Store) -> NetnsLab.Store { store == .legacy ? .nft : .legacy }

        /// (a) The Go plugin's chains decide over kubelet's: Go (with `store`'s iptables) adds a pod on
        /// a node whose kubelet writes in the other store; ours follows Go, CHECKs and DELs Go's pod.
        @Test(arguments: [NetnsLab.Store.legacy, .nft])
        func followsTheGoPluginsChains(store: NetnsLab.Store) throws {
            let lab = try NetnsLab(kubelet: Self.other(store))
            defer { lab.tearDown() }
            let go = DirectPortmap(lab: lab, portmap: .go, iptables: store)
            let ours = DirectPortmap(lab: lab, portmap: .ours)
            try #require(try go.run("ADD", Self.config("30"), containerID: "go-pod").succeeded)
            let add = try ours.run("ADD", Self.config("31"), containerID: "our-pod")
            #expect(add.succeeded, "\(add.stdout)")
            #expect(add.stderr.isEmpty, "\(add.stderr)")
            #expect(try Self.holders(lab, "our-pod") == [store])
            #expect(try ours.run("CHECK", Self.config("30"), containerID: "go-pod").succeeded)
            #expect(try ours.run("DEL", Self.config("30"), containerID: "go-pod").succeeded)
            #expect(try Self.holders(lab, "go-pod") == [])
            #expect(try Self.holders(lab, "our-pod") == [store])
        }

        /// CNI chains in both stores: ours writes where more containers are, and says so on stderr.
        @Test func aSplitNodeGoesWhereMoreContainersAreAndWarns() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            for (id, store, address) in [("go-legacy-1", NetnsLab.Store.legacy, "41"), ("go-legacy-2", .legacy, "42"), ("go-nft", .nft, "43")] {
                try #require(try DirectPortmap(lab: lab, portmap: .go, iptables: store).run("ADD", Self.config(address), containerID: id).succeeded)
            }
            let add = try DirectPortmap(lab: lab, portmap: .ours).run("ADD", Self.config("60"), containerID: "our-pod")
            #expect(add.succeeded, "\(add.stdout)")
            #expect(
                add.stderr.contains("portmap: warning: CNI-HOSTPORT chains are in both iptables stores (4 CNI-DN- chains in iptables-legacy, 2 in iptables-nft)"),
                "\(add.stderr)")
            #expect(try Self.holders(lab, "our-pod") == [.legacy])
        }

        /// (b) Kubernetes' chains decide on a node without CNI chains: kubelet's hint and canary in
        /// mangle, kube-proxy's chains in nat, in either store.
        @Test(arguments: [
            (NetnsLab.Store.legacy, "mangle", "KUBE-IPTABLES-HINT"), (.nft, "mangle", "KUBE-KUBELET-CANARY"),
            (.legacy, "nat", "KUBE-SERVICES"), (.nft, "nat", "KUBE-NODEPORTS"),
        ])
        func followsKubernetesChains(store: NetnsLab.Store, table: String, chain: String) throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            try lab.inNode("iptables-\(store.rawValue)", "-t", table, "-N", chain)
            #expect(try DirectPortmap(lab: lab, portmap: .ours).run("ADD", Self.config("32"), containerID: "our-pod").succeeded)
            #expect(try Self.holders(lab, "our-pod") == [store])
        }

        /// A legacy nat table with nothing of Kubernetes or CNI in it (a legacy iptables user made
        /// it) beside empty iptables-nft tables: the node's iptables is legacy.
        @Test func legacyTablesInUseDecideOverTheSystemIPTables() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            try lab.inNode("iptables-legacy", "-t", "nat", "-N", "DOCKER")
            #expect(try DirectPortmap(lab: lab, portmap: .ours).run("ADD", Self.config("38"), containerID: "our-pod").succeeded)
            #expect(try Self.holders(lab, "our-pod") == [.legacy])
        }

        /// (c) An empty node gets the store of the system's `iptables` (Debian 12: iptables-nft).
        @Test func anEmptyNodeFollowsTheSystemIPTables() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let resolved = URL(fileURLWithPath: "/usr/sbin/iptables").resolvingSymlinksInPath().lastPathComponent
            let expected: NetnsLab.Store = resolved.contains("nft") ? .nft : .legacy
            #expect(try DirectPortmap(lab: lab, portmap: .ours).run("ADD", Self.config("33"), containerID: "our-pod").succeeded)
            #expect(try Self.holders(lab, "our-pod") == [expected], "/usr/sbin/iptables is \(resolved)")
        }

        /// (d) A kernel without legacy x_tables (simulated below the probe: /proc's x_tables lists
        /// and the module tree hidden) gets iptables-nft, even where the Go plugin's chains and
        /// kubelet's are legacy; STATUS is ready; without the shim, CHECK finds the pod in
        /// iptables-nft. DEL removes it; a DEL of the Go plugin's legacy pod succeeds, leaving it
        /// (that kernel has no legacy table to look in), until the shim is gone.
        @Test func withoutLegacyXTablesItIsIPTablesNFT() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try #require(try DirectPortmap(lab: lab, portmap: .go).run("ADD", Self.config("34"), containerID: "go-pod").succeeded)
            let ours = DirectPortmap(lab: lab, portmap: .ours)
            let hidden: [String: String?] = ["LD_PRELOAD": try lab.fakeKernelFiles(), "PORTMAP_TEST_HIDE_XTABLES": "1"]
            let status = try ours.run("STATUS", ["cniVersion": "1.1.0", "name": "diff-net", "type": "portmap"], env: hidden)
            #expect(status.status == 0, "\(status.stdout)")
            #expect(try ours.run("ADD", Self.config("35"), containerID: "our-pod", env: hidden).succeeded)
            #expect(try Self.holders(lab, "our-pod") == [.nft])
            #expect(try Self.holders(lab, "go-pod") == [.legacy])
            #expect(try ours.run("CHECK", Self.config("35"), containerID: "our-pod").succeeded, "CHECK looks in both stores")
            #expect(try ours.run("DEL", Self.config("35"), containerID: "our-pod", env: hidden).succeeded)
            #expect(try Self.holders(lab, "our-pod") == [])
            #expect(try ours.run("DEL", Self.config("34"), containerID: "go-pod", env: hidden).succeeded)
            #expect(try Self.holders(lab, "go-pod") == [.legacy])
            #expect(try ours.run("DEL", Self.config("34"), containerID: "go-pod").succeeded)
            #expect(try Self.holders(lab, "go-pod") == [])
        }

        /// `iptablesStore` overrides every rule: here (a) and (b) say legacy.
        @Test func theConfigKeyOverridesTheChoice() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            try #require(try DirectPortmap(lab: lab, portmap: .go).run("ADD", Self.config("36"), containerID: "go-pod").succeeded)
            let ours = DirectPortmap(lab: lab, portmap: .ours)
            #expect(try ours.run("ADD", Self.config("37", extra: ["iptablesStore": "nft"]), containerID: "our-pod").succeeded)
            #expect(try Self.holders(lab, "our-pod") == [.nft])
            // Forced, CHECK looks only there: Go's legacy pod is not in iptables-nft.
            let check = try ours.run("CHECK", Self.config("36", extra: ["iptablesStore": "nft"]), containerID: "go-pod")
            #expect(!check.succeeded && check.stdout.contains(#""code": 101"#) && check.stdout.contains("(iptables-nft)"), "\(check.stdout)")
        }

        /// Takeover both ways with traffic, on a node of each store: the Go plugin's pod answers, ours
        /// adds a pod next to it in the same store and CHECKs Go's; ours DELs Go's pod (it stops
        /// answering), then Go adds another and DELs ours; every remaining pod answers throughout.
        @Test(arguments: [NetnsLab.Store.legacy, .nft])
        func takeoverBothWaysWithTraffic(store: NetnsLab.Store) throws {
            let lab = try NetnsLab(kubelet: store)
            defer { lab.tearDown() }
            let file = "10-hostport-ipv4.conflist"
            var goChain = try lab.chain(file, portmap: .go)
            if store == .nft { goChain.portmapPath = "/usr/sbin:/usr/bin:/sbin:/bin" }
            let ourChain = try lab.chain(file)
            let port = { (hostPort: Int) in [["hostPort": hostPort, "containerPort": 80, "protocol": "tcp"]] as [[String: Any]] }
            let goPod = try lab.addPod("g", chain: goChain, mappings: port(8101))
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8101) == "g from \(NetnsLab.clientIPv4)")
            let ourPod = try lab.addPod("o", chain: ourChain, mappings: port(8102))
            #expect(try Self.holders(lab, ourPod.containerID) == [store])
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8102) == "o from \(NetnsLab.clientIPv4)")
            let check = try ourChain.run(
                "CHECK", containerID: goPod.containerID, netns: goPod.name, mappings: goPod.mappings, prevResult: goPod.result, only: "portmap")
            #expect(check.map(\.status) == [0], "\(check.map(\.stdout))")

            let del = try ourChain.run(
                "DEL", containerID: goPod.containerID, netns: goPod.name, mappings: goPod.mappings, prevResult: goPod.result, only: "portmap")
            #expect(del.map(\.status) == [0], "\(del.map(\.stdout))")
            #expect(try Self.holders(lab, goPod.containerID) == [])
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8101) == nil, "Go's pod still answers after our DEL")

            let laterGoPod = try lab.addPod("l", chain: goChain, mappings: port(8103))
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8103) == "l from \(NetnsLab.clientIPv4)")
            let goDel = try goChain.run(
                "DEL", containerID: ourPod.containerID, netns: ourPod.name, mappings: ourPod.mappings, prevResult: ourPod.result,
                only: "portmap")
            #expect(goDel.map(\.status) == [0], "\(goDel.map(\.stderr))")
            #expect(try Self.holders(lab, ourPod.containerID) == [])
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8102) == nil, "our pod still answers after Go's DEL")
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8103) == "l from \(NetnsLab.clientIPv4)")
            #expect(try Self.holders(lab, laterGoPod.containerID) == [store])
        }
    }
}
