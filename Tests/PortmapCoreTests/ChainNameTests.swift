import Testing

@testable import PortmapCore

/// The vectors of upstream's `portmap_iptables_test.go` and `pkg/utils/utils_test.go`: the names
/// must be identical for a node to switch between the Go binary and ours with pods running.
struct ChainNameTests {
    static let longContainerID = "icee6giejonei6sohng6ahngee7laquohquee9shiGo7fohferakah3Feiyoolu2pei7ciPhoh7shaoX6vai3vuf0ahfaeng8yohb9ceu0daez5hashee8ooYai5wa3y"

    @Test(arguments: [
        ("testNetName", longContainerID, "CNI-DN-bfd599665540dd91d5d28"),
        ("test", longContainerID, "CNI-DN-67e92b96e692a494b6b85"),
        // Written by Debian's Go portmap 1.1.1 on this machine for network "test", id "abc123".
        ("test", "abc123", "CNI-DN-0c4de534d24965339ca8c"),
    ])
    func dnatChainMatchesUpstream(network: String, containerID: String, expected: String) {
        #expect(ChainName.dnat(network: network, containerID: containerID) == expected)
    }

    @Test(arguments: [
        ("", "test", "1234", "CNI-2bbe0c48b91a7d1b8a6753a8"),
        ("", "testalongnamethatdoesnotmakesense", "1234", "CNI-374f33fe84ab0ed84dcdebe3"),
        ("PREFIX-", "test", "1234", "CNI-PREFIX-2bbe0c48b91a7d1b8"),
        ("PREFIX-", "testalongnamethatdoesnotmakesense", "1234", "CNI-PREFIX-374f33fe84ab0ed84"),
    ])
    func hashedNamesMatchLibcni(prefix: String, network: String, containerID: String, expected: String) {
        let name = ChainName.hashed(prefix: prefix, network: network, containerID: containerID)
        #expect(name == expected)
        #expect(name.count == ChainName.maxLength)
    }

    @Test func oneCharacterChangesTheName() {
        #expect(ChainName.dnat(network: "net", containerID: "1234") != ChainName.dnat(network: "net", containerID: "1235"))
    }

    /// What iptables-legacy 1.8.9 stores for the Go plugin's comment (checked with
    /// `iptables-legacy -A ... --comment` and `iptables-legacy-save`): Go trims over 255 bytes to
    /// 253 + "...", the kernel's field keeps 255 of those.
    @Test func commentIsWhatTheKernelKeepsOfGos() {
        let opening = #"dnat name: "n1" id: ""#
        let trimmed = ChainName.dnatComment(network: "n1", containerID: String(repeating: "a", count: 240))
        #expect(trimmed == opening + String(repeating: "a", count: 232) + "..")
        // 256 bytes are trimmed too (the random differential run found it; 255 was taken for 256).
        let just = ChainName.dnatComment(network: "n1", containerID: String(repeating: "b", count: 234))
        #expect(just == opening + String(repeating: "b", count: 232) + "..")
        let fits = ChainName.dnatComment(network: "n1", containerID: String(repeating: "c", count: 233))
        #expect(fits == opening + String(repeating: "c", count: 233) + "\"")
        #expect(ChainName.dnatComment(network: "test", containerID: "abc") == #"dnat name: "test" id: "abc""#)
    }

    /// GC attributes a container's entry rules to a network by their comment: only a comment
    /// `dnatComment` could have written, truncated or not, as long as the network name is whole.
    @Test(
        arguments: [
            (#"dnat name: "net1" id: "abc""#, "net1"),
            (ChainName.dnatComment(network: "net1", containerID: String(repeating: "c", count: 300)), "net1"),
            (ChainName.dnatComment(network: "n", containerID: String(repeating: "c", count: 240)), "n"),
            (ChainName.dnatComment(network: "n1", containerID: String(repeating: "b", count: 234)), "n1"),
            // 12 + 240 + the closing quote fill the 253 bytes Go keeps; one more and the quote is cut.
            (ChainName.dnatComment(network: String(repeating: "n", count: 240), containerID: "c"), String(repeating: "n", count: 240)),
            (ChainName.dnatComment(network: String(repeating: "n", count: 241), containerID: "c"), nil),
            (#"dnat name: "n1" id: ""# + String(repeating: "a", count: 232) + "...", nil),
            (#"dnat name: "net1" id: "abc" extra"#, nil),
            (#"dnat name: "net1" id: "a b""#, nil),
            (#"dnat name: "net1""#, nil),
            (#"dnat name: "bad net" id: "abc""#, nil),
            (#"snat name: "net1" id: "abc""#, nil),
            ("CNI portfwd masquerade mark", nil),
            ("", nil),
        ] as [(String, String?)])
    func networkOfAComment(comment: String, network: String?) {
        #expect(ChainName.network(ofDNATComment: comment) == network)
    }
}
