import Foundation
import PortmapCore
import Snapshots
import Testing

@testable import IPTablesBackend
@testable import IPTablesLayout

/// The store chosen per network namespace, rule by rule (issue 15's cases a–d), from censuses
/// built by hand; and the system `iptables` read through real symlinks.
struct StoreChoiceTests {
    static let empty = StoreCensus(usable: true)
    static let go3 = StoreCensus(usable: true, hasPortmapChains: true, containerChains: 3)
    static let go5 = StoreCensus(usable: true, hasPortmapChains: true, containerChains: 5)
    static let kube = StoreCensus(usable: true, hasKubernetesChains: true)

    static func choose(
        forced: IPTablesStoreName? = nil, legacy: StoreCensus, nft: StoreCensus, system: IPTablesStoreName? = .nft
    ) -> StoreChoice {
        StoreChoice.choose(forced: forced, legacy: { legacy }, nft: { nft }, system: { system })
    }

    @Test func aConfiguredStoreWinsOverEverythingAndReadsNothing() {
        let choice = StoreChoice.choose(
            forced: .legacy,
            legacy: {
                Issue.record("legacy census read")
                return Self.empty
            },
            nft: {
                Issue.record("nft census read")
                return Self.go5
            }, system: { .nft })
        #expect(choice == StoreChoice(store: .iptablesLegacy, reason: .forced))
        #expect(Self.choose(forced: .nft, legacy: Self.go5, nft: Self.empty, system: .legacy).store == .iptablesNFT)
    }

    @Test func withoutLegacyXTablesItIsIPTablesNFTWithoutReadingIt() {
        let choice = StoreChoice.choose(
            forced: nil, legacy: { StoreCensus(usable: false) },
            nft: {
                Issue.record("nft census read")
                return Self.empty
            },
            system: { .legacy })
        #expect(choice == StoreChoice(store: .iptablesNFT, reason: .noLegacyXTables))
    }

    @Test func withoutNFTablesItIsLegacy() {
        #expect(
            Self.choose(legacy: Self.empty, nft: StoreCensus(usable: false), system: .nft)
                == StoreChoice(store: .iptablesLegacy, reason: .noNFTables))
    }

    @Test func theStoreHoldingTheGoPluginsChainsWins() {
        #expect(Self.choose(legacy: Self.go3, nft: Self.kube) == StoreChoice(store: .iptablesLegacy, reason: .portmapChains))
        #expect(Self.choose(legacy: Self.kube, nft: Self.go3, system: .legacy) == StoreChoice(store: .iptablesNFT, reason: .portmapChains))
    }

    @Test func aSplitNodeGoesToTheStoreWithMoreContainersAndIsReported() throws {
        let legacyWins = Self.choose(legacy: Self.go5, nft: Self.go3)
        #expect(legacyWins == StoreChoice(store: .iptablesLegacy, reason: .splitPortmapChains(legacy: 5, nft: 3)))
        let warning = try #require(legacyWins.splitWarning)
        #expect(warning.contains("5 CNI-DN- chains in iptables-legacy, 3 in iptables-nft"))
        #expect(warning.contains("writing to iptables-legacy"))
        #expect(Self.choose(legacy: Self.go3, nft: Self.go5, system: .legacy).store == .iptablesNFT)
        // A tie: the system's iptables decides.
        #expect(Self.choose(legacy: Self.go3, nft: Self.go3, system: .legacy).store == .iptablesLegacy)
        #expect(Self.choose(legacy: Self.go3, nft: Self.go3, system: .nft).store == .iptablesNFT)
        #expect(Self.choose(legacy: Self.go3, nft: Self.empty).splitWarning == nil)
    }

    @Test func kubernetesChainsDecideWhenNoStoreHasTheGoPlugins() {
        #expect(Self.choose(legacy: Self.kube, nft: Self.empty) == StoreChoice(store: .iptablesLegacy, reason: .kubernetesChains))
        #expect(Self.choose(legacy: Self.empty, nft: Self.kube, system: .legacy) == StoreChoice(store: .iptablesNFT, reason: .kubernetesChains))
        // In both: as on an empty node.
        #expect(Self.choose(legacy: Self.kube, nft: Self.kube, system: .legacy) == StoreChoice(store: .iptablesLegacy, reason: .systemIPTables))
    }

    @Test func anEmptyNodeFollowsTheSystemIPTablesAndNFTWhenUnknown() {
        #expect(Self.choose(legacy: Self.empty, nft: Self.empty, system: .legacy) == StoreChoice(store: .iptablesLegacy, reason: .systemIPTables))
        #expect(Self.choose(legacy: Self.empty, nft: Self.empty, system: .nft) == StoreChoice(store: .iptablesNFT, reason: .systemIPTables))
        #expect(Self.choose(legacy: Self.empty, nft: Self.empty, system: nil) == StoreChoice(store: .iptablesNFT, reason: .systemIPTables))
    }

    @Test(arguments: [
        ("/usr/sbin/xtables-nft-multi", IPTablesStoreName?.some(.nft)), ("/usr/sbin/iptables-nft", .nft),
        ("/usr/sbin/xtables-legacy-multi", .legacy), ("/sbin/iptables-legacy", .legacy), ("/sbin/xtables-multi", .legacy),
        ("/usr/sbin/iptables", .legacy), ("/usr/bin/busybox", nil),
    ])
    func binaryNamesTellTheVariant(path: String, variant: IPTablesStoreName?) {
        #expect(SystemIPTables.variant(ofBinary: path) == variant)
    }

    /// Debian's alternatives chain (`iptables` → /etc/alternatives → `iptables-nft` →
    /// `xtables-nft-multi`), rebuilt in a temporary directory, is followed to its end; a missing
    /// first path falls through to the next.
    @Test func theSymlinkChainIsFollowed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("storechoice-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        for (variant, binary) in [("nft", "xtables-nft-multi"), ("legacy", "xtables-legacy-multi")] {
            #expect(FileManager.default.createFile(atPath: path(binary), contents: Data()))
            try FileManager.default.createSymbolicLink(atPath: path("iptables-\(variant)"), withDestinationPath: binary)
            try FileManager.default.createSymbolicLink(atPath: path("alternative-\(variant)"), withDestinationPath: path("iptables-\(variant)"))
            try FileManager.default.createSymbolicLink(atPath: path("iptables-via-\(variant)"), withDestinationPath: path("alternative-\(variant)"))
        }
        #expect(SystemIPTables.variant(paths: [path("missing"), path("iptables-via-nft")]) == .nft)
        #expect(SystemIPTables.variant(paths: [path("iptables-via-legacy"), path("iptables-via-nft")]) == .legacy)
        #expect(SystemIPTables.variant(paths: [path("missing")]) == nil)
    }
}
