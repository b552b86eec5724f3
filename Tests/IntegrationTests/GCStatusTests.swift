import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// CNI 1.1 GC and STATUS against the kernel: GC removes exactly the unlisted containers of its
    /// network (ours and the Go plugin's) in both families; STATUS answers without creating tables.
    @Suite
    struct GCStatusTests {
        static let network = "gc-net", otherNetwork = "gc-other"

        /// One TCP and one UDP mapping on port 8100 + index, dual stack.
        static func addConfig(_ index: Int, network: String = network, version: String = "1.1.0") -> [String: Any] {
            DirectPortmap.config(
                network: network,
                mappings: [
                    ["hostPort": 8100 + index, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8100 + index, "containerPort": 80, "protocol": "udp"],
                ],
                addresses: ["10.88.0.\(30 + index)/24", "2001:db8:89::\(30 + index)/64"], version: version)
        }

        /// GC's config as libcni derives it: the list under the SPEC's key and the legacy one.
        static func gcConfig(keeping containerIDs: [String], network: String = network) -> [String: Any] {
            let attachments = containerIDs.map { ["containerID": $0, "ifname": "eth0"] }
            return [
                "cniVersion": "1.1.0", "name": network, "type": "portmap",
                "cni.dev/valid-attachments": attachments, "cni.dev/attachments": attachments,
            ]
        }

        /// GC and STATUS come without container, netns or interface.
        static let noAttachment: [String: String?] = ["CNI_CONTAINERID": nil, "CNI_NETNS": nil, "CNI_IFNAME": nil]

        /// The CNI-DN chain the entry rules of `containerID` in `network` jump to.
        static func chain(of containerID: String, network: String = network, in table: String) throws -> String {
            let entry = try #require(
                table.split(separator: "\n").first {
                    $0.hasPrefix("-A CNI-HOSTPORT-DNAT") && $0.contains(#"name: \"\#(network)\" id: \"\#(containerID)\""#)
                }, "no entry rule of \(containerID) in\n\(table)")
            return String(try #require(entry.split(separator: " ").last))
        }

        /// `table` without the lines naming one of `chains` (declarations, rules, jumps to them).
        static func without(_ chains: [String], in table: String) -> String {
            table.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !chains.contains { line.contains($0) } }.joined(separator: "\n")
        }

        func gc(_ plugin: DirectPortmap, keeping containerIDs: [String]) throws {
            let result = try plugin.run("GC", Self.gcConfig(keeping: containerIDs), env: Self.noAttachment)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.isEmpty, "GC prints nothing on success")
        }

        /// a, b, c of gc-net and d of gc-other by ours (cniVersion 1.1.0), one gc-net container by
        /// the Go plugin (1.0.0), canaries around them. GC keeping a, c and Go's removes only b's
        /// chain and jumps; an empty list then removes every gc-net container, Go's included.
        @Test func removesOnlyTheUnlistedContainersOfItsNetwork() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let ours = DirectPortmap(lab: lab, portmap: .ours)
            let go = DirectPortmap(lab: lab, portmap: .go)
            for (index, name) in ["a", "b", "c"].enumerated() {
                let add = try ours.run("ADD", Self.addConfig(index), containerID: "ctr-gc-\(name)")
                try #require(add.succeeded, "\(add.stdout)")
            }
            try #require(try ours.run("ADD", Self.addConfig(3, network: Self.otherNetwork), containerID: "ctr-gc-d").succeeded)
            let goAdd = try go.run("ADD", Self.addConfig(4, version: "1.0.0"), containerID: "ctr-gc-go")
            try #require(goAdd.succeeded, "\(goAdd.stdout)\(goAdd.stderr)")
            for (tool, source) in [("iptables-legacy", "203.0.113.77/32"), ("ip6tables-legacy", "2001:db8:ffff::77/128")] {
                for chain in ["CNI-HOSTPORT-DNAT", "PREROUTING", "POSTROUTING"] {
                    try lab.inNode(tool, "-t", "nat", "-A", chain, "-s", source, "-m", "comment", "--comment", "canary", "-j", "RETURN")
                }
            }
            let before = [try lab.natTable(), try lab.natTable(v6: true)]
            let raw = try lab.natTable(table: "raw")
            let chains = try Dictionary(
                uniqueKeysWithValues: ["a", "b", "c", "go"].map { name in
                    (name, try Self.chain(of: "ctr-gc-\(name)", in: before[0]))
                })
            #expect(try Self.chain(of: "ctr-gc-go", in: before[1]) == chains["go"], "the Go plugin's IPv6 rules are there too")

            try gc(ours, keeping: ["ctr-gc-a", "ctr-gc-c", "ctr-gc-go"])
            for (index, v6) in [false, true].enumerated() {
                let after = try lab.natTable(v6: v6)
                #expect(after == Self.without([chains["b"]!], in: before[index]), "v6=\(v6)")
                #expect(!after.contains(#"id: \"ctr-gc-b\""#))
            }
            // Idempotent: the same GC again changes nothing.
            try gc(ours, keeping: ["ctr-gc-a", "ctr-gc-c", "ctr-gc-go"])
            #expect(try lab.natTable() == Self.without([chains["b"]!], in: before[0]))

            try gc(ours, keeping: [])
            for (index, v6) in [false, true].enumerated() {
                let after = try lab.natTable(v6: v6)
                #expect(after == Self.without(Array(chains.values), in: before[index]), "v6=\(v6)")
                #expect(after.contains(#"id: \"ctr-gc-d\""#), "another network's container stays")
                #expect(after.components(separatedBy: "--comment canary").count == 4)
                #expect(after.contains(":CNI-HOSTPORT-DNAT") && after.contains(":CNI-HOSTPORT-MASQ"), "shared chains stay")
            }
            try gc(ours, keeping: [])
            #expect(try lab.natTable(v6: true) == Self.without(Array(chains.values), in: before[1]))
            #expect(try lab.natTable(table: "raw") == raw, "the localnet guard is not GC's")
        }

        /// GC on a node without nat tables succeeds and creates none, in either store.
        @Test func gcCreatesNoTable() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let before = try lab.rulesets()
            try gc(DirectPortmap(lab: lab, portmap: .ours), keeping: [])
            #expect(try lab.rulesets() == before)
            #expect(try tableNames(lab) == ["mangle\n", "mangle\n"], "only kubelet's canary table")
        }

        /// `/proc/net/ip{,6}_tables_names` of the node: the legacy tables that exist there.
        func tableNames(_ lab: NetnsLab) throws -> [String] {
            try ["ip", "ip6"].map { try lab.inNode("cat", "/proc/net/\($0)_tables_names").stdout }
        }

        func status(
            _ plugin: DirectPortmap, config: [String: Any] = ["cniVersion": "1.1.0", "name": network, "type": "portmap"],
            env: [String: String?] = [:]
        ) throws -> Command.Result {
            try plugin.run("STATUS", config, env: Self.noAttachment.merging(env) { $1 })
        }

        /// In a fresh namespace STATUS succeeds from /proc and the module tree and leaves no nat or
        /// raw table behind; once an ADD made them, it succeeds and changes none of them.
        @Test func statusSucceedsWithoutCreatingTables() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            #expect(try tableNames(lab) == ["mangle\n", "mangle\n"], "a fresh node has only kubelet's canary table")
            let before = try lab.rulesets()
            let fresh = try status(plugin)
            #expect(fresh.status == 0, "\(fresh.stdout)")
            #expect(fresh.stdout.isEmpty && fresh.stderr.isEmpty)
            #expect(try lab.rulesets() == before, "STATUS must not instantiate a table in either store")

            try #require(try plugin.run("ADD", Self.addConfig(0), containerID: "ctr-status").succeeded)
            let tables = [try lab.natTable(), try lab.natTable(v6: true), try lab.natTable(table: "raw")]
            let ready = try status(plugin)
            #expect(ready.status == 0 && ready.stdout.isEmpty, "\(ready.stdout)")
            #expect([try lab.natTable(), try lab.natTable(v6: true), try lab.natTable(table: "raw")] == tables)
        }

        /// containerd polls STATUS: another process holding the lock only delays an ADD, so STATUS
        /// answers ready without waiting for it; a lock file an ADD could not open at all is
        /// "plugin not available" (50), naming the lock.
        @Test func statusIgnoresAHeldLockButNotAnUnopenableOne() throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let lockFile = lab.dataDir.appendingPathComponent("xtables.lock").path
            let holder = try Subprocess.Background([
                "python3", "-c",
                """
                import fcntl, time
                lock = open("\(lockFile)", "w")
                fcntl.flock(lock, fcntl.LOCK_EX)
                print("ready", flush=True)
                time.sleep(60)
                """,
            ])
            let held = try status(plugin, env: ["XTABLES_LOCKFILE": lockFile])
            holder.stop()
            #expect(held.status == 0 && held.stdout.isEmpty, "\(held.stdout)")
            let unopenable = lab.dataDir.appendingPathComponent("missing/xtables.lock").path
            let missing = try status(plugin, env: ["XTABLES_LOCKFILE": unopenable])
            #expect(missing.status == 1)
            let error = try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any]
            #expect(error?["code"] as? Int == 50, "\(missing.stdout)")
            #expect((error?["msg"] as? String)?.contains(unopenable) == true, "\(missing.stdout)")
        }

        /// A module tree with nf_tables built in and `aliases` (modules.builtin.alias lines), for
        /// `Fixtures/fake_kernel_files.c` to offer as the running kernel's.
        static func moduleTree(_ lab: NetnsLab, _ name: String, aliases: String) throws -> URL {
            let directory = lab.dataDir.appendingPathComponent("modules-\(name)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "kernel/net/netfilter/nf_tables.ko\n".write(to: directory.appendingPathComponent("modules.builtin"), atomically: true, encoding: .utf8)
            try aliases.write(to: directory.appendingPathComponent("modules.builtin.alias"), atomically: true, encoding: .utf8)
            return directory
        }

        /// Where no nat table exists yet, the iptables-nft store's STATUS asks the module tree for
        /// the nat chain type: a kernel without it (a tree lacking `nft-chain-2-nat`, offered through
        /// `Fixtures/fake_kernel_files.c`) is code 50 naming it, one with it (built in) is ready.
        @Test func iptablesNFTStatusNamesAMissingNatChainType() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let config: [String: Any] = ["cniVersion": "1.1.0", "name": Self.network, "type": "portmap", "iptablesStore": "nft"]
            for (tree, aliases) in [
                ("without-nat", "alias nft-chain-2-filter nf_tables\n"), ("with-nat", "alias nft-chain-2-nat nft_chain_nat\nalias nft-chain-10-nat nft_chain_nat\n"),
            ] {
                let result = try status(
                    plugin, config: config,
                    env: ["LD_PRELOAD": try lab.fakeKernelFiles(), "PORTMAP_TEST_MODULE_TREE": try Self.moduleTree(lab, tree, aliases: aliases).path])
                if tree == "with-nat" {
                    #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stdout)")
                } else {
                    let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                    #expect(error?["code"] as? Int == 50, "\(result.stdout)")
                    #expect((error?["msg"] as? String)?.contains("no nat chain type (nft-chain-2-nat)") == true, "\(result.stdout)")
                }
            }
            #expect(try lab.inNode("nft", "list", "ruleset").stdout == "", "STATUS created nothing")
        }

        /// Where its table does not exist yet, the nftables backend's STATUS asks the module tree
        /// for what an ADD would create it with: a tree lacking the masq expression is code 50
        /// naming it, one with the nat chain type and every expression is ready; nothing is created.
        @Test func nftablesStatusNamesAMissingExpression() throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let config: [String: Any] = ["cniVersion": "1.1.0", "name": Self.network, "type": "portmap", "backend": "nftables"]
            let chains = "alias nft-chain-2-nat nft_chain_nat\nalias nft-chain-10-nat nft_chain_nat\n"
            let expressions = "alias nft-expr-2-fib nft_fib_ipv4\nalias nft-expr-10-fib nft_fib_ipv6\nalias nft-expr-nat nft_nat\nalias nft-expr-ct nft_ct\n"
            for (tree, aliases) in [("without-masq", chains + expressions), ("complete", chains + expressions + "alias nft-expr-masq nft_masq\n")] {
                let result = try status(
                    plugin, config: config,
                    env: ["LD_PRELOAD": try lab.fakeKernelFiles(), "PORTMAP_TEST_MODULE_TREE": try Self.moduleTree(lab, tree, aliases: aliases).path])
                if tree == "complete" {
                    #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stdout)")
                } else {
                    let error = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                    #expect(error?["code"] as? Int == 50, "\(result.stdout)")
                    #expect((error?["msg"] as? String)?.contains("no masq expression (nft-expr-masq)") == true, "\(result.stdout)")
                }
            }
            #expect(try lab.inNode("nft", "list", "ruleset").stdout == "", "STATUS created nothing")
        }

        /// A busy node: STATUS polled while 40 pods are ADDed and DELed next to it answers ready
        /// every time, in each iptables store and with the nftables backend.
        @Test(arguments: TestBackend.allCases)
        func statusStaysReadyWhilePodsComeAndGo(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            nonisolated(unsafe) let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let statusConfig = (["cniVersion": "1.1.0", "name": Self.network, "type": "portmap"] as [String: Any]).merging(backend.overrides) { $1 }
            nonisolated(unsafe) let configs = (statusConfig, (0..<40).map { Self.addConfig($0).merging(backend.overrides) { $1 } })
            for verb in ["ADD", "DEL"] {
                let results = try concurrently(80) { index in
                    index % 2 == 0
                        ? try plugin.run(verb, configs.1[index / 2], containerID: "ctr-busy-\(index / 2)")
                        : try plugin.run("STATUS", configs.0, env: Self.noAttachment)
                }
                #expect(results.filter { !$0.succeeded }.map(\.stdout) == [], "\(verb)")
                #expect(results.enumerated().filter { $0.offset % 2 == 1 }.allSatisfy { $0.element.stdout.isEmpty })
            }
        }
    }
}
