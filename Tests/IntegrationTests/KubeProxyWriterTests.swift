import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// kube-proxy (iptables mode, on iptables-nft) rewrites its chains with `iptables-nft-restore
    /// --noflush` every few seconds, taking no lock: our batches and its are ordered only by the
    /// ruleset generation. A writer doing that in a loop while 200 pods are ADDed and DELed: every
    /// verb succeeds, each side's rules are all there exactly once, and the writer never fails.
    @Suite
    struct KubeProxyWriterTests {
        static let services = 100

        /// kube-proxy's shape: its chains declared (which flushes them under --noflush) and filled
        /// again, one rule per Service.
        static var restoreText: String {
            var lines = ["*nat", ":KUBE-SERVICES - [0:0]", ":KUBE-SVC-TEST - [0:0]"]
            for index in 1...services {
                lines.append("-A KUBE-SERVICES -d 10.96.\(index / 250).\(index % 250)/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-TEST")
            }
            lines += ["-A KUBE-SVC-TEST -p tcp -j DNAT --to-destination 10.244.0.10:80", "COMMIT", ""]
            return lines.joined(separator: "\n")
        }

        @Test func podsComeAndGoWhileKubeProxyRestores() throws {
            let lab = try NetnsLab(kubelet: .nft)
            defer { lab.tearDown() }
            let rules = lab.dataDir.appendingPathComponent("kube-proxy.rules")
            let stats = lab.dataDir.appendingPathComponent("writer.stats")
            let errors = lab.dataDir.appendingPathComponent("writer.err")
            try Self.restoreText.write(to: rules, atomically: true, encoding: .utf8)
            try lab.inNode("sh", "-c", "iptables-nft-restore --noflush < '\(rules.path)'")
            try lab.inNode("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-j", "KUBE-SERVICES")
            let writer = try Subprocess.Background([
                "ip", "netns", "exec", lab.node, "bash", "-c",
                """
                n=0 f=0
                trap 'echo "$n $f" > "\(stats.path)"; exit 0' TERM
                echo ready
                while :; do iptables-nft-restore --noflush < "\(rules.path)" 2>>"\(errors.path)" || f=$((f+1)); n=$((n+1)); done
                """,
            ])
            var writerStopped = false
            defer { if !writerStopped { writer.stop() } }

            nonisolated(unsafe) let plugin = DirectPortmap(lab: lab, portmap: .ours)
            let pods = 200
            let added = try concurrently(pods) { index in
                try plugin.run("ADD", ConcurrencyTests.config(index), containerID: ConcurrencyTests.containerID(index))
            }
            #expect(added.filter { !$0.succeeded }.map(\.stdout) == [])
            for table in try lab.ruleset(.iptablesNFT) {
                let lines = table.split(separator: "\n").filter { $0.hasPrefix("-A ") }
                #expect(Set(lines).count == lines.count, "duplicate rules")
                for index in 0..<pods {
                    #expect(ConcurrencyTests.hasBothDNATs(index, in: table, .iptablesNFT), "pod \(index) lost a DNAT")
                    #expect(ConcurrencyTests.lines(of: index, in: table).filter { $0.hasPrefix("-A CNI-HOSTPORT-DNAT") }.count == 2)
                }
            }
            let deleted = try concurrently(pods) { index in
                try plugin.run("DEL", ConcurrencyTests.config(index), containerID: ConcurrencyTests.containerID(index))
            }
            #expect(deleted.filter { !$0.succeeded }.map(\.stdout) == [])
            writer.stop()
            writerStopped = true

            let counts = try String(contentsOf: stats, encoding: .utf8).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            try #require(counts.count == 2)
            #expect(counts[0] >= 10, "the writer ran \(counts[0]) times: too few to overlap the verbs")
            #expect(counts[1] == 0, "iptables-nft-restore failed \(counts[1]) times: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            let nat = try lab.natTable(store: .nft)
            let lines = nat.split(separator: "\n")
            #expect(!nat.contains("CNI-DN-"), "a pod's chain is left")
            #expect(lines.filter { $0.hasPrefix("-A KUBE-SERVICES ") }.count == Self.services, "kube-proxy's rules lost or doubled")
            #expect(lines.filter { $0 == "-A PREROUTING -j KUBE-SERVICES" }.count == 1)
            #expect(lines.filter { $0 == "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT" }.count == 1)
            #expect(try lab.natTable(store: .legacy).contains("CNI-") == false, "the legacy store was written")
        }
    }
}
