import Foundation
import ModuleTree
import PortmapCore
import Testing

@testable import IPTablesLayout
@testable import IPTablesLegacyStore

/// STATUS's answer from the kernel's offer, without root: a module tree in a temporary directory
/// and the /proc side given as a set of what is there.
struct KernelStatusTests {
    /// A module tree holding `files` (name → contents); removed by the caller.
    static func tree(_ files: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pmt-modules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        return directory
    }

    static func plan(_ family: IPFamily) throws -> IPTablesFamilyPlan {
        let json = #"{"cniVersion": "1.1.0", "name": "net", "runtimeConfig": {"portMappings": [{"hostPort": 1, "containerPort": 1}]}}"#
        let config = try PortMapConfig(json: try JSONParser.parse(Array(json.utf8)))
        let address = family == .ipv4 ? IPNetwork("192.0.2.2/24")! : IPNetwork("2001:db8::2/64")!
        return IPTablesPlanner.plan(config, containerID: "status-probe", container: address)
    }

    @Test func modulesAreFoundByFileNameOrAliasWithDashesAsUnderscores() throws {
        let directory = try Self.tree([
            "modules.builtin": "kernel/net/netfilter/x_tables.ko\nkernel/net/ipv4/netfilter/ip_tables.ko\n",
            "modules.dep": "kernel/net/ipv4/netfilter/iptable-nat.ko.xz: kernel/net/netfilter/nf_nat.ko.xz\n",
            "modules.alias": "# Aliases extracted from modules themselves.\nalias ipt_DNAT xt_nat\nalias ip6t_MASQUERADE xt_MASQUERADE\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let modules = KernelModules(directory: directory)
        #expect(modules.availability(ofAny: ["ip_tables"]) == .available)
        #expect(modules.availability(ofAny: ["iptable_nat"]) == .available)
        #expect(modules.availability(ofAny: ["ipt_DNAT", "xt_DNAT"]) == .available)
        #expect(modules.availability(ofAny: ["ip6t_MASQUERADE"]) == .available)
        #expect(modules.availability(ofAny: ["ip6table_nat"]) == .missing)
        #expect(modules.availability(ofAny: ["ipt_addrtype", "xt_addrtype"]) == .missing)
    }

    @Test func aMissingTreeCannotTell() {
        let modules = KernelModules(directory: "/nonexistent/lib/modules/0.0.0")
        #expect(modules.availability(ofAny: ["iptable_nat"]) == .unknown)
    }

    @Test func needsAreNamedAsTheKernelRequestsTheirModules() {
        #expect(KernelTables.Need.xTables.moduleNames(.ipv6) == ["ip6_tables"])
        #expect(KernelTables.Need.table("nat").moduleNames(.ipv4) == ["iptable_nat"])
        #expect(KernelTables.Need.table("nat").moduleNames(.ipv6) == ["ip6table_nat"])
        #expect(KernelTables.Need.target("DNAT").moduleNames(.ipv4) == ["ipt_DNAT", "xt_DNAT"])
    }

    /// A fresh namespace (no table yet) on a kernel whose tree offers everything: ready, and the
    /// tree is read; with every need already there, the tree is not read at all.
    @Test func everythingThereOrLoadableIsReady() throws {
        let plan = try Self.plan(.ipv4)
        var reads = 0
        try LegacyStore.checkKernel(
            for: plan, isThere: { _ in true },
            modules: {
                reads += 1
                return KernelModules(directory: "/nonexistent")
            })
        #expect(reads == 0)
        let directory = try Self.tree([
            "modules.builtin": "kernel/net/ipv4/netfilter/iptable_nat.ko\nkernel/net/ipv4/netfilter/iptable_raw.ko\n"
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.check(plan, isThere: { $0 != .table("nat") && $0 != .table("raw") }, tree: directory)
    }

    /// A need neither there nor in the tree is named, with the modules looked for.
    @Test func aMissingTableOrExtensionIsNamed() throws {
        let directory = try Self.tree(["modules.builtin": "kernel/net/ipv6/netfilter/ip6table_nat.ko\n"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plan = try Self.plan(.ipv6)
        let noDNAT = BackendError(
            .kernel, "ip6tables: the kernel has no DNAT target",
            details: "neither there nor built in or installed as a module (ip6t_DNAT or xt_DNAT)")
        #expect(throws: noDNAT) { try Self.check(plan, isThere: { $0 != .target("DNAT") }, tree: directory) }
        let noXTables = BackendError(
            .kernel, "ip6tables: the kernel has no legacy x_tables", details: "neither there nor built in or installed as a module (ip6_tables)")
        #expect(throws: noXTables) { try Self.check(plan, isThere: { _ in false }, tree: directory) }
        // Where the tree cannot be read, STATUS cannot tell and says ready.
        try Self.check(plan, isThere: { _ in false }, tree: "/nonexistent")
    }

    static func check(_ plan: IPTablesFamilyPlan, isThere: (KernelTables.Need) -> Bool, tree: String) throws {
        try LegacyStore.checkKernel(for: plan, isThere: isThere, modules: { KernelModules(directory: tree) })
    }
}
