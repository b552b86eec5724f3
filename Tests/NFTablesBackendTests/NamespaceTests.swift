import Foundation
import PortmapCore
import Testing

@testable import NFTablesBackend
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The backend against the kernel (root only), each test in scratch network namespaces of its own,
/// read back with the `nft` tool.
@Suite(.enabled(if: RootPrerequisites.available, RootPrerequisites.reason))
struct NamespaceTests {
    /// A namespace, a lock file and a backend, removed when the test ends.
    final class Node {
        let namespace: ScratchNamespace
        let lock = ScratchLock()
        let backend: NFTablesBackend

        init(_ suffix: String) throws {
            namespace = try ScratchNamespace(suffix)
            backend = NFTablesBackend(environment: ["PORTMAP_NFTABLES_LOCKFILE": lock.path])
        }

        deinit {
            namespace.delete()
            lock.remove()
        }

        /// Runs a verb inside the namespace.
        func run(_ verb: (NFTablesBackend) throws -> Void) throws {
            try namespace.inside { try verb(backend) }
        }

        /// Both families' listings, normalized (`Listing.normalized`); nil for a missing table. Read
        /// once no element is being expired any more (a DEL's elements go within a tick; nft lists
        /// them until then, with `expires`).
        func listings() throws -> [String?] {
            for _ in 0..<50 {
                let listed = try IPFamily.allCases.map { try namespace.listing($0) }
                if !listed.contains(where: { $0?.contains(" expires ") == true }) { return listed.map { $0.map(Listing.normalized) } }
                usleep(2_000)
            }
            return try IPFamily.allCases.map { try namespace.listing($0).map(Listing.normalized) }
        }

        /// The ruleset generation, which every committed batch moves on.
        func generation() throws -> UInt32 {
            try namespace.inside { try TableReader(socket: NetfilterSocket()).generation() }
        }
    }

    /// What `nft -f` of `NFTablesPlanner.script` with `elements` makes of a fresh namespace:
    /// the listing each family's table must have.
    static func reference(_ elements: [IPFamily: [NFTablesElement]]) throws -> [String?] {
        let scratch = try ScratchNamespace("ref")
        defer { scratch.delete() }
        return try IPFamily.allCases.map { family in
            guard let elements = elements[family] else { return nil }
            try scratch.nft("-f", "-", script: NFTablesPlanner.script(family: family, elements: elements))
            return try scratch.listing(family).map(Listing.normalized)
        }
    }

    static let other = "4d2f0e1c9b8a"

    @Test func addBuildsTheScriptsTableAndReAddChangesNothing() throws {
        let node = try Node("add")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(request) }
        let expected = try Self.reference(Fixtures.planned(request))
        #expect(try node.listings() == expected)
        #expect(expected.allSatisfy { $0?.contains("10.89.0.5") == true || $0?.contains("2001:db8:89::5") == true })
        // The same as nft's own, down to the expressions.
        let generation = try node.generation()
        try node.run { _ = try $0.add(request) }
        #expect(try node.generation() == generation)
        #expect(try node.listings() == expected)
        try node.run { try $0.check(request) }
    }

    @Test func expressionsAreNfts() throws {
        let node = try Node("expr")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(request) }
        let scratch = try ScratchNamespace("exprref")
        defer { scratch.delete() }
        for (family, elements) in Fixtures.planned(request) {
            try scratch.nft("-f", "-", script: NFTablesPlanner.script(family: family, elements: elements))
        }
        for name in ["ip", "ip6"] {
            // Rules as the kernel holds them, expression by expression (handles differ).
            let ours = try Listing.rules(node.namespace.nft("--debug=netlink", "list", "chain", name, NFTablesLayout.table, "postrouting"))
            let theirs = try Listing.rules(scratch.nft("--debug=netlink", "list", "chain", name, NFTablesLayout.table, "postrouting"))
            #expect(ours == theirs && !ours.isEmpty)
            let dispatch = try Listing.rules(node.namespace.nft("--debug=netlink", "list", "chain", name, NFTablesLayout.table, "hostports"))
            #expect(dispatch == (try Listing.rules(scratch.nft("--debug=netlink", "list", "chain", name, NFTablesLayout.table, "hostports"))))
        }
    }

    /// A re-ADD with a mapping dropped and one changed: its elements found under the planned keys
    /// make ADD read every element, and what it no longer plans goes, in both families.
    @Test func reAddWithOtherMappingsRemovesTheDroppedOnes() throws {
        let node = try Node("readd")
        let other = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 7070, "containerPort": 70}"#), id: Self.other,
            [.ipv4: IPNetwork("10.89.0.6/24")!, .ipv6: IPNetwork("2001:db8:89::6/64")!])
        let after = Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 81}"#))
        try node.run { _ = try $0.add(other) }
        try node.run { _ = try $0.add(Fixtures.request(try Fixtures.config())) }
        try node.run { _ = try $0.add(after) }
        #expect(try node.listings() == (try Self.reference(Fixtures.planned(after).merging(Fixtures.planned(other)) { $0 + $1 })))
        try node.run { try $0.check(after) }
    }

    @Test func deleteLeavesTheTablesWithoutElements() throws {
        let node = try Node("del")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(request) }
        try node.run { _ = try $0.delete(Fixtures.request(request.config, [:])) }
        #expect(try node.listings() == (try Self.reference([.ipv4: [], .ipv6: []])))
        let generation = try node.generation()
        try node.run { _ = try $0.delete(request) }
        #expect(try node.generation() == generation)
    }

    /// On this kernel (6.18) DEL is one batch of expirations: the kernel takes them, so no
    /// deleting batch follows (the generation moves by one), and the elements are gone a tick later.
    @Test func deleteExpiresInOneBatch() throws {
        let node = try Node("expire")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(request) }
        let generation = try node.generation()
        try node.run { _ = try $0.delete(request) }
        #expect(try node.generation() == generation + 1)
        usleep(20_000)
        #expect(try node.listings() == (try Self.reference([.ipv4: [], .ipv6: []])))
    }

    /// A new container taking the freed hostPorts right after the DEL of the old one (within the
    /// tick the old elements take to expire; the kernel refuses another value under a key still
    /// held) waits for them to go and adds its own: they are there, without an expiration, well
    /// after. The same for a re-ADD of the container itself.
    @Test func addRightAfterDeleteOutlivesTheExpiry() throws {
        let node = try Node("readd")
        let config = try Fixtures.config()
        let old = Fixtures.request(config)
        let new = Fixtures.request(config, id: "successor", [.ipv4: IPNetwork("10.89.0.8/24")!, .ipv6: IPNetwork("2001:db8:89::8/64")!])
        try node.run {
            _ = try $0.add(old)
            _ = try $0.delete(old)
            _ = try $0.add(new)
        }
        usleep(50_000)
        #expect(try node.listings() == (try Self.reference(Fixtures.planned(new))))
        try node.run {
            try $0.check(new)
            _ = try $0.delete(new)
            _ = try $0.add(new)
        }
        usleep(50_000)
        #expect(try node.listings() == (try Self.reference(Fixtures.planned(new))))
    }

    @Test func deleteWithoutTablesCreatesNone() throws {
        let node = try Node("delnone")
        try node.run { _ = try $0.delete(Fixtures.request(try Fixtures.config())) }
        try node.run { _ = try $0.gc(network: Fixtures.network, validAttachments: []) }
        #expect(try node.namespace.nft("list", "tables") == "")
    }

    @Test func twoContainersAndTheDeleteOfOne() throws {
        let node = try Node("two")
        let first = Fixtures.request(try Fixtures.config())
        let second = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 8081, "containerPort": 80}, {"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.2"}"#),
            id: Self.other, [.ipv4: IPNetwork("10.89.0.6/24")!, .ipv6: IPNetwork("2001:db8:89::6/64")!])
        try node.run { _ = try $0.add(first) }
        try node.run { _ = try $0.add(second) }
        let both = Fixtures.planned(first).merging(Fixtures.planned(second)) { $0 + $1 }
        #expect(try node.listings() == (try Self.reference(both)))
        try node.run { _ = try $0.delete(first) }
        #expect(try node.listings() == (try Self.reference(Fixtures.planned(second))))
        try node.run { try $0.check(second) }
    }

    @Test func conflictIsRefusedAndTablesStayAsTheyWere() throws {
        let node = try Node("conflict")
        try node.run { _ = try $0.add(Fixtures.request(try Fixtures.config())) }
        let before = try node.listings()
        let generation = try node.generation()
        let thief = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 9090, "containerPort": 90, "hostIP": "192.0.2.1"}"#), id: Self.other,
            [.ipv4: IPNetwork("10.89.0.6/24")!])
        #expect {
            try node.run { _ = try $0.add(thief) }
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.kind == .invalidConfig && error.message.hasPrefix("tcp port 9090 on 192.0.2.1 is already mapped by hostport-dual/3e1fdcd8a5e9")
        }
        #expect(try node.listings() == before)
        #expect(try node.generation() == generation)
    }

    @Test func checkPassesThenNamesADeletedElement() throws {
        let node = try Node("check")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(request) }
        try node.run { try $0.check(request) }
        try node.namespace.nft("delete", "element", "ip6", NFTablesLayout.table, "hostip_dnat", "{ 2001:db8::1 . tcp . 9443 }")
        #expect {
            try node.run { try $0.check(request) }
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.kind == .checkFailed
                && error.message
                    == #"element ip6 cni_portmaps hostip_dnat { 2001:db8::1 . tcp . 9443 comment "hostport-dual/3e1fdcd8a5e9" : 2001:db8:89::5 . 443 } is missing"#
        }
        try node.namespace.nft("delete", "chain", "ip", NFTablesLayout.table, NFTablesLayout.guardChain)
        #expect {
            try node.run { try $0.check(request) }
        } throws: { error in
            (error as? BackendError)?.details.contains("chain ip cni_portmaps localnet_guard is missing") == true
        }
    }

    /// GC of a network: its unlisted containers go; the listed one, another network's container
    /// with the same ID, and a hashed owner (too long to name a network) stay.
    @Test func gcRemovesOnlyTheNetworksUnlistedContainers() throws {
        let node = try Node("gc")
        let kept = Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#), id: "kept", [.ipv4: IPNetwork("10.89.0.5/24")!])
        let gone = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 8081, "containerPort": 80}"#), id: "gone",
            [.ipv4: IPNetwork("10.89.0.6/24")!, .ipv6: IPNetwork("2001:db8:89::6/64")!])
        let otherNetwork = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 8082, "containerPort": 80}"#, network: "other"), id: "gone",
            [.ipv4: IPNetwork("10.89.0.7/24")!])
        let hashed = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 8083, "containerPort": 80}"#, network: String(repeating: "n", count: 100)),
            id: String(repeating: "c", count: 64), [.ipv4: IPNetwork("10.89.0.8/24")!])
        for request in [kept, gone, otherNetwork, hashed] { try node.run { _ = try $0.add(request) } }
        try node.run { _ = try $0.gc(network: Fixtures.network, validAttachments: [GCAttachment(containerID: "kept", ifName: "eth0")]) }
        let staying = [kept, otherNetwork, hashed].map(Fixtures.planned).reduce(into: [IPFamily: [NFTablesElement]]()) { all, planned in
            all.merge(planned) { $0 + $1 }
        }
        #expect(try node.listings() == (try Self.reference(staying.merging([.ipv6: []]) { old, _ in old })))
    }

    /// A GC of a thousand containers is one batch of 2,997 deletions, about 270 KB: more than a
    /// netlink socket sends by default (212,992 bytes), so the socket makes room first.
    @Test func gcOfAThousandContainersIsOneLargeBatch() throws {
        let node = try Node("gcbig")
        let config = try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#)
        let elements = (0..<1000).flatMap { index in
            let address = IPNetwork("10.90.\(index / 250).\(index % 250 + 2)/16")!
            var planned = NFTablesPlanner.plan(config, containerID: "c\(index)", container: address).elements
            planned[0].key = .port(.tcp, UInt16(10_000 + index))
            return planned
        }
        try node.namespace.nft("-f", "-", script: NFTablesPlanner.script(family: .ipv4, elements: elements))
        try node.run { _ = try $0.gc(network: Fixtures.network, validAttachments: [GCAttachment(containerID: "c0", ifName: "eth0")]) }
        let left = try node.namespace.inside { try TableReader(socket: NetfilterSocket()).elements(.ipv4) }
        #expect(Set(left) == Set(elements.filter { $0.owner == "\(Fixtures.network)/c0" }))
        #expect(left.count == 3)
    }

    /// STATUS changes nothing, neither in an empty namespace nor next to a table, and reads the
    /// set types of a table an ADD made as the plugin's.
    @Test func statusCreatesNoTableAndChangesNothing() throws {
        let node = try Node("status")
        let config = try Fixtures.config()
        try node.run { try $0.status(config) }
        #expect(try node.namespace.nft("list", "ruleset") == "")
        try node.run { _ = try $0.add(Fixtures.request(config)) }
        let before = try node.listings()
        let generation = try node.generation()
        try node.run { try $0.status(config) }
        #expect(try node.listings() == before)
        #expect(try node.generation() == generation)
    }

    /// A node that ran the plugin before its table was renamed: the old layout under the previous
    /// name (`cni_hostport`). ADD and DEL remove the container's old elements, GC the network's
    /// unlisted containers', in the verb's batch; other containers' old elements, the old
    /// table's chains and sets stay, and no old element is ever added.
    @Test func previousTableLosesTheTouchedContainersElements() throws {
        let node = try Node("previous")
        let config = try Fixtures.config()
        let mine = Fixtures.request(config)
        let kept = Fixtures.request(try Fixtures.config(#"{"hostPort": 7070, "containerPort": 70}"#), id: "kept", [.ipv4: IPNetwork("10.89.0.8/24")!])
        let gone = Fixtures.request(try Fixtures.config(#"{"hostPort": 7071, "containerPort": 70}"#), id: "gone", [.ipv4: IPNetwork("10.89.0.9/24")!])
        let old = [mine, kept, gone].map(Fixtures.planned).reduce(into: [IPFamily: [NFTablesElement]]()) { $0.merge($1) { $0 + $1 } }
        for (family, elements) in old {
            let script = NFTablesPlanner.script(family: family, elements: elements)
                .replacingOccurrences(of: " \(NFTablesLayout.table)", with: " \(NFTablesLayout.previousTable)")
            try node.namespace.nft("-f", "-", script: script)
        }
        func previous() throws -> Set<NFTablesElement> {
            try node.namespace.inside {
                let reader = TableReader(socket: try NetfilterSocket())
                return Set(try IPFamily.allCases.flatMap { try reader.elements($0, table: NFTablesLayout.previousTable) })
            }
        }
        let owners = { (elements: Set<NFTablesElement>) in Set(elements.map(\.owner)) }
        try node.run { _ = try $0.add(mine) }
        let others: Set<String> = ["\(Fixtures.network)/kept", "\(Fixtures.network)/gone"]
        #expect(try owners(previous()) == others)
        try node.run { _ = try $0.delete(mine) }
        try node.run { _ = try $0.gc(network: Fixtures.network, validAttachments: [GCAttachment(containerID: "kept", ifName: "eth0")]) }
        #expect(try previous() == Set(Fixtures.planned(kept)[.ipv4]!))
        for family in IPFamily.allCases {
            let listing = try node.namespace.nft("list", "table", family == .ipv4 ? "ip" : "ip6", NFTablesLayout.previousTable)
            #expect(NFTablesLayout.chains(family).allSatisfy { listing.contains("chain \($0) {") })
            #expect(NFTablesElement.Set.allCases.allSatisfy { listing.contains(" \($0.rawValue) {") })
        }
    }

    /// A table of another layout in the way (hand-made, masq_pairs of another type) is reported
    /// by STATUS, not papered over: an ADD could not add its elements.
    @Test func statusReportsATableOfAnotherLayout() throws {
        let node = try Node("statusno")
        try node.namespace.nft("add", "table", "ip", NFTablesLayout.table)
        try node.namespace.nft("add", "set", "ip", NFTablesLayout.table, "masq_pairs", "{ type ipv4_addr; flags interval; }")
        try node.namespace.nft(
            "add", "map", "ip", NFTablesLayout.table, "hostport_dnat", "{ type inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; }")
        try node.namespace.nft(
            "add", "map", "ip", NFTablesLayout.table, "hostip_dnat",
            "{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; }")
        #expect {
            try node.run { try $0.status(try Fixtures.config()) }
        } throws: { error in
            (error as? BackendError)?.message == "nftables: table ip cni_portmaps has no set masq_pairs of the plugin's type"
        }
    }

    /// One batch for both families: an element the kernel refuses in the IPv6 table (a hand-made
    /// table whose masq_pairs has another type) takes the whole ADD with it, the IPv4 table that
    /// the same batch created included.
    @Test func batchRefusedMidwayLeavesNothing() throws {
        let node = try Node("midway")
        try node.namespace.nft(
            "-f", "-",
            script: """
                table ip6 cni_portmaps {
                    map hostip_dnat { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
                    map hostport_dnat { type inet_proto . inet_service : ipv6_addr . inet_service; }
                    set masq_pairs { type ipv6_addr; flags interval; }
                }
                """)
        let before = try node.listings()
        #expect(before[0] == nil)
        #expect {
            try node.run { _ = try $0.add(Fixtures.request(try Fixtures.config())) }
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.kind == .kernel && error.message.hasPrefix("nftables refused add element ip6 cni_portmaps masq_pairs")
        }
        #expect(try node.listings() == before)
    }

    /// A writer that does not take the lock commits between the backend's read and its batch: the
    /// kernel refuses the batch (ERESTART), the backend reads again and applies it, and the other
    /// writer's change stays.
    @Test func foreignCommitBetweenReadAndBatchIsRetried() throws {
        let node = try Node("race")
        let request = Fixtures.request(try Fixtures.config())
        try node.run { _ = try $0.add(Fixtures.request(request.config, id: Self.other, [.ipv4: IPNetwork("10.89.0.6/24")!])) }
        let interfering = try node.namespace.inside { try InterferingSocket(before: { try node.namespace.nft("add", "table", "ip", "foreign") }) }
        let backend = NFTablesBackend(
            lockPath: node.lock.path, lockTimeoutMilliseconds: 1_000,
            openSocket: { NetfilterSocket(transport: interfering, firstSequence: 1) })
        _ = try node.namespace.inside { try backend.delete(Fixtures.request(request.config, id: Self.other, [:])) }
        #expect(interfering.batches == 2)
        #expect(try node.listings()[0] == (try Self.reference([.ipv4: []]))[0])
        #expect(try node.namespace.nft("list", "table", "ip", "foreign").contains("table ip foreign"))
    }
}
