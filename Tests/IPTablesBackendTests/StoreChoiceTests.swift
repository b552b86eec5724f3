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

    /// The choice over hand-made censuses; the legacy store counts as holding tables when its
    /// census has any chain, unless `legacyInUse` says otherwise.
    static func choose(
        forced: IPTablesStoreName? = nil, legacy: StoreCensus, nft: StoreCensus, system: IPTablesStoreName? = .nft,
        legacyInUse: Bool? = nil
    ) -> StoreChoice {
        StoreChoice.choose(
            forced: forced, legacyUsable: { legacy.usable },
            legacyInUse: { legacyInUse ?? (legacy.hasPortmapChains || legacy.hasKubernetesChains) }, legacy: { legacy },
            nft: { nft }, systemIPTables: { system })
    }

    /// A probe a rule must not need.
    static func unread<Value>(_ what: String, _ value: Value) -> () -> Value {
        {
            Issue.record("\(what) read")
            return value
        }
    }

    @Test func aConfiguredStoreWinsOverEverythingAndReadsNothing() {
        let choice = StoreChoice.choose(
            forced: .legacy, legacyUsable: Self.unread("legacy usability", true), legacyInUse: Self.unread("legacy tables", true),
            legacy: Self.unread("legacy census", Self.empty), nft: Self.unread("nft census", Self.go5), systemIPTables: Self.unread("system", .nft))
        #expect(choice == StoreChoice(store: .iptablesLegacy, reason: .forced))
        #expect(Self.choose(forced: .nft, legacy: Self.go5, nft: Self.empty, system: .legacy).store == .iptablesNFT)
    }

    @Test func withoutLegacyXTablesItIsIPTablesNFTWithoutReadingIt() {
        let choice = StoreChoice.choose(
            forced: nil, legacyUsable: { false }, legacyInUse: Self.unread("legacy tables", true), legacy: Self.unread("legacy census", Self.go5),
            nft: Self.unread("nft census", Self.empty), systemIPTables: Self.unread("system", .legacy))
        #expect(choice == StoreChoice(store: .iptablesNFT, reason: .noLegacyXTables))
    }

    @Test func withoutNFTablesItIsLegacy() {
        #expect(
            Self.choose(legacy: Self.empty, nft: StoreCensus(usable: false), system: .nft)
                == StoreChoice(store: .iptablesLegacy, reason: .noNFTables))
    }

    /// The legacy census (whole tables through libiptc) is read only where both stores have
    /// tables: legacy tables without any iptables-nft table are the node's iptables, and without
    /// legacy tables there is nothing to read.
    @Test func theLegacyCensusIsReadOnlyWhereItCanDecide() {
        let inUse = StoreChoice.choose(
            forced: nil, legacyUsable: { true }, legacyInUse: { true }, legacy: Self.unread("legacy census", Self.go3), nft: { Self.empty },
            systemIPTables: { .nft })
        #expect(inUse == StoreChoice(store: .iptablesLegacy, reason: .legacyTablesInUse))
        let unused = StoreChoice.choose(
            forced: nil, legacyUsable: { true }, legacyInUse: { false }, legacy: Self.unread("legacy census", Self.go3), nft: { Self.kube },
            systemIPTables: { .legacy })
        #expect(unused == StoreChoice(store: .iptablesNFT, reason: .kubernetesChains))
        // Legacy tables holding neither CNI nor Kubernetes chains, iptables-nft kube-proxy's: read, and nft wins.
        #expect(Self.choose(legacy: Self.empty, nft: Self.kube, system: .legacy, legacyInUse: true).store == .iptablesNFT)
        // Tables in both stores, chains of neither kind in either (a nat table flushed, one made by
        // reading it): the system's iptables, as on an empty node.
        let bare = StoreCensus(usable: true, hasTables: true)
        #expect(Self.choose(legacy: Self.empty, nft: bare, system: .nft, legacyInUse: true) == StoreChoice(store: .iptablesNFT, reason: .systemIPTables))
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
        // Legacy kubelet chains beside empty iptables-nft tables: legacy, told by the legacy tables alone.
        #expect(Self.choose(legacy: Self.kube, nft: Self.empty) == StoreChoice(store: .iptablesLegacy, reason: .legacyTablesInUse))
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
