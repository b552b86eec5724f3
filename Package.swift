// swift-tools-version: 6.0
import PackageDescription

/// The portmap CNI plugin.
///
/// Layers, from the kernel up — each C library is reached from exactly one Swift module:
/// - `CIPTables`: module map + shim header over libiptc (libip4tc/libip6tc). No Swift.
/// - `PortmapCore`: pure Swift, no C and no I/O: CNI protocol and types, config decoding and
///   validation, chain naming, the rule *plan* and its `iptables-save` rendering, the verb dispatcher.
/// - `CMnl`: module map + shim header over libmnl (rtnetlink, nfnetlink_conntrack, nfnetlink
///   batches). No Swift.
/// - `CNftnl`: module map + shim header over libnftnl (nf_tables objects to and from messages). No Swift.
/// - `CNetNamespace`: a C shim for the libc namespace call Swift's Glibc module leaves out
///   (`setns(CLONE_NEWNET)`, which needs `_GNU_SOURCE`).
/// - `NodeLock`: the `flock` the writers hold from read to commit: the xtables lock (legacy store),
///   and the nf_tables lock the nftables backend and the iptables-nft store share.
/// - `ModuleTree`: which modules the kernel could load, from `/lib/modules` (STATUS where no table
///   exists yet), and the small-text-file reader the /proc lists share.
/// - `OwnThread`: the one place threads are created (the two families at once), and the one
///   caller of `CNetNamespace`: a thread of its own in another network namespace.
/// - `IPTablesLayout`: pure Swift: how the Go plugin's layout is edited in any store (the
///   reconciler over the `RuleTable` protocol) and the xtables extension structs both stores carry.
/// - `IPTablesLegacyStore`: the layout in the legacy x_tables: one libiptc commit per table, CHECK's
///   read-back; STATUS reads /proc and the kernel's module tree.
/// - `IPTablesNFTStore`: the same layout in the nf_tables tables iptables-nft manages, each rule in
///   iptables-nft 1.8.9's expressions, one batch per verb over `Nftnl` and `Netlink`.
/// - `IPTablesBackend`: the `iptables` backend: plans a container, runs each verb in its stores.
/// - `Netlink`: the conntrack flush and the route lookup behind `route_localnet`, over libmnl; and
///   `NetfilterSocket`, which sends nf_tables requests and batches others build; the sock_diag,
///   address and route dumps `HostScan` reads the node with.
/// - `HostScan`: what only `hostports` reads: the node's listening sockets with their owners
///   (/proc), addresses and routes, `route_localnet` and bridge ports (/proc/sys, /sys), and the
///   walk over the node's other network namespaces.
/// - `Nftnl`: the one Swift caller of libnftnl: nf_tables objects and expressions as Swift values,
///   laid out as messages and read back from replies; both nf_tables layouts are written in it.
/// - `NFTablesBackend`: the nftables layout (one table per family, elements per container) as one
///   nf_tables batch per verb, built and read with `Nftnl`, sent through `Netlink`; it reads (for
///   `hostports`) and takes over (DEL) upstream's nftables table too.
/// - `Snapshots`: pure Swift value types of what a read of the node finds (the nat tables, the
///   nftables tables, listening sockets, routes, bridge ports, and the `NodeSnapshot` holding them):
///   the kernel modules fill them in, `Diagnostics` analyses them, and the plugin never links the
///   analysis.
/// - `Diagnostics`: pure Swift: the analysis `hostports` runs on a node snapshot (mappings,
///   conflicts, the packet path of `explain`), rendered as tables and JSON.
/// - `PluginMain`: the process edge (environment, stdin, stdout, exit code) shared by the executables.
/// - `portmap`: the executable runtimes call; wires environment + stdin to the core and the
///   config's backend.
/// - `hostports`: the node diagnostics command; fills a `NodeSnapshot` from the backends and prints
///   the analysis. Reads only.
/// - `PortmapFakeBackend` / `portmap-fake`: an in-file backend so the binary's protocol handling is
///   tested end to end without root.
/// - `TestSubprocess` (tests only): runs programs with posix_spawn and close-on-exec pipes, makes
///   a test's network namespaces, and probes (once per test target) whether the root-only suites
///   can run.
let package = Package(
    name: "portmap",
    products: [
        .executable(name: "portmap", targets: ["portmap"]),
        .executable(name: "hostports", targets: ["hostports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CIPTables",
            pkgConfig: "libiptc",
            providers: [.apt(["libiptc-dev"])]
        ),
        .systemLibrary(
            name: "CMnl",
            pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]
        ),
        .systemLibrary(
            name: "CNftnl",
            pkgConfig: "libnftnl",
            providers: [.apt(["libnftnl-dev"])]
        ),
        .target(name: "PortmapCore"),
        .target(name: "CNetNamespace"),
        .target(name: "Snapshots", dependencies: ["PortmapCore"]),
        .target(name: "Diagnostics", dependencies: ["PortmapCore", "Snapshots"]),
        .target(name: "Netlink", dependencies: ["CMnl", "PortmapCore", "Snapshots"]),
        .target(name: "HostScan", dependencies: ["Netlink", "OwnThread", "PortmapCore", "Snapshots"]),
        .target(name: "NodeLock", dependencies: ["PortmapCore"]),
        .target(name: "OwnThread", dependencies: ["CNetNamespace"]),
        .target(name: "IPTablesLayout", dependencies: ["OwnThread", "PortmapCore", "Snapshots"]),
        .target(name: "ModuleTree"),
        .target(
            name: "IPTablesLegacyStore", dependencies: ["CIPTables", "IPTablesLayout", "ModuleTree", "NodeLock", "OwnThread", "PortmapCore", "Snapshots"]),
        .target(name: "IPTablesNFTStore", dependencies: ["IPTablesLayout", "ModuleTree", "Netlink", "Nftnl", "NodeLock", "PortmapCore", "Snapshots"]),
        .target(name: "IPTablesBackend", dependencies: ["IPTablesLayout", "IPTablesLegacyStore", "IPTablesNFTStore", "PortmapCore", "Snapshots"]),
        .target(name: "Nftnl", dependencies: ["CNftnl", "PortmapCore"]),
        .target(name: "NFTablesBackend", dependencies: ["ModuleTree", "Netlink", "Nftnl", "NodeLock", "PortmapCore", "Snapshots"]),
        .target(name: "PortmapFakeBackend", dependencies: ["PortmapCore"]),
        .target(name: "PluginMain", dependencies: ["PortmapCore"]),
        .executableTarget(name: "portmap", dependencies: ["PortmapCore", "IPTablesBackend", "NFTablesBackend", "Netlink", "PluginMain"]),
        .executableTarget(
            name: "hostports",
            dependencies: [
                "Diagnostics", "HostScan", "IPTablesBackend", "NFTablesBackend", "Netlink", "PortmapCore", "Snapshots",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "portmap-fake", dependencies: ["PortmapCore", "PortmapFakeBackend", "PluginMain"]),
        .testTarget(name: "PortmapCoreTests", dependencies: ["PortmapCore"]),
        .testTarget(
            name: "IPTablesBackendTests", dependencies: ["IPTablesBackend", "IPTablesLayout", "IPTablesLegacyStore", "ModuleTree", "PortmapCore", "Snapshots"]),
        .testTarget(
            name: "IPTablesNFTStoreTests", dependencies: ["IPTablesLayout", "IPTablesNFTStore", "Nftnl", "PortmapCore", "TestSubprocess"],
            exclude: ["Fixtures"]),
        .testTarget(name: "NetlinkTests", dependencies: ["HostScan", "Netlink", "OwnThread", "PortmapCore", "Snapshots", "TestSubprocess"]),
        .testTarget(
            name: "NFTablesBackendTests", dependencies: ["HostScan", "NFTablesBackend", "Netlink", "Nftnl", "PortmapCore", "Snapshots", "TestSubprocess"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "PortmapCore", "Snapshots"]),
        .target(name: "TestSubprocess", path: "Tests/TestSubprocess"),
        .testTarget(name: "PortmapBinaryTests", dependencies: ["portmap", "portmap-fake", "TestSubprocess"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSubprocess", "PortmapCore"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
