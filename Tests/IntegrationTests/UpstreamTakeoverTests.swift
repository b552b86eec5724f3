import Foundation
import Testing

extension NamespaceTests {
    /// Upstream's Go portmap (main after v1.9.1, `"backend": "iptables"`, with the legacy or the
    /// nft iptables on its PATH) and ours on one node of each store: each CHECKs and DELs the
    /// other's container, and ours writes where upstream does without being told.
    @Suite(.enabled(if: Prerequisites.upstreamPlugin != nil, Prerequisites.upstreamMissing))
    struct UpstreamTakeoverTests {
        static func config(_ address: String) -> [String: Any] {
            DirectPortmap.config(
                mappings: [
                    ["hostPort": 8095, "containerPort": 80, "protocol": "tcp"],
                    ["hostPort": 8096, "containerPort": 53, "protocol": "udp", "hostIP": NetnsLab.nodeIPv4],
                ],
                addresses: ["10.88.0.\(address)/24", "2001:db8:89::\(address)/64"])
        }

        @Test(arguments: [NetnsLab.Store.legacy, .nft])
        func eachChecksAndDeletesTheOthersContainer(store: NetnsLab.Store) throws {
            let lab = try NetnsLab(kubelet: nil)
            defer { lab.tearDown() }
            let upstream = DirectPortmap(lab: lab, portmap: .upstream, iptables: store)
            let ours = DirectPortmap(lab: lab, portmap: .ours)
            let theirs = try upstream.run("ADD", Self.config("70"), containerID: "upstream-pod")
            try #require(theirs.succeeded, "\(theirs.stdout)\(theirs.stderr)")
            let added = try ours.run("ADD", Self.config("71"), containerID: "our-pod")
            #expect(added.succeeded, "\(added.stdout)")
            #expect(try StoreSelectionTests.holders(lab, "our-pod") == [store], "ours follows upstream's chains")

            let upstreamCheck = try upstream.run("CHECK", Self.config("71"), containerID: "our-pod")
            #expect(upstreamCheck.succeeded, "upstream's CHECK of our pod: \(upstreamCheck.stdout)\(upstreamCheck.stderr)")
            let ourCheck = try ours.run("CHECK", Self.config("70"), containerID: "upstream-pod")
            #expect(ourCheck.succeeded, "our CHECK of upstream's pod: \(ourCheck.stdout)")

            let upstreamDel = try upstream.run("DEL", Self.config("71"), containerID: "our-pod")
            #expect(upstreamDel.succeeded, "\(upstreamDel.stdout)\(upstreamDel.stderr)")
            #expect(try StoreSelectionTests.holders(lab, "our-pod") == [])
            let ourDel = try ours.run("DEL", Self.config("70"), containerID: "upstream-pod")
            #expect(ourDel.succeeded, "\(ourDel.stdout)")
            #expect(try StoreSelectionTests.holders(lab, "upstream-pod") == [])
            for v6 in [false, true] {
                #expect(!(try lab.natTable(v6: v6, store: store).contains("CNI-DN-")), "a container chain is left (v6: \(v6))")
            }
        }
    }
}
