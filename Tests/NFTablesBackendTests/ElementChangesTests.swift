import PortmapCore
import Snapshots
import Testing

@testable import NFTablesBackend

/// What ADD, DEL and GC change, from the elements a table holds (no kernel).
struct ElementChangesTests {
    static func elements(
        _ id: String, network: String = Fixtures.network, address: String = "10.89.0.5/24",
        _ mappings: String = Fixtures.mappings
    ) throws -> [NFTablesElement] {
        let request = Fixtures.request(try Fixtures.config(mappings, network: network), id: id, [.ipv4: IPNetwork(address)!])
        return Fixtures.planned(request)[.ipv4]!
    }

    static func owner(_ id: String, network: String = Fixtures.network) -> String {
        NFTablesPlanner.owner(network: network, containerID: id)
    }

    @Test func identicalElementsAreKept() throws {
        let planned = try Self.elements("a")
        let changes = ElementChanges.add(
            planned, owner: Self.owner("a"), current: planned + (try Self.elements("b", address: "10.89.0.6/24", #"{"hostPort": 1, "containerPort": 1}"#)))
        #expect(changes == ElementChanges())
        #expect(changes.isEmpty)
    }

    @Test func firstAddAddsEverything() throws {
        let planned = try Self.elements("a")
        #expect(ElementChanges.add(planned, owner: Self.owner("a"), current: []) == ElementChanges(additions: planned))
    }

    /// A re-ADD with one mapping fewer and another port: the dropped mapping's element goes, the
    /// changed one is replaced (deleted, then added), the rest stays.
    @Test func staleElementsAreRemovedAndChangedOnesReplaced() throws {
        let before = try Self.elements("a")
        let after = try Self.elements("a", #"{"hostPort": 8080, "containerPort": 81}, {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}"#)
        let other = try Self.elements("b", address: "10.89.0.6/24", #"{"hostPort": 7070, "containerPort": 70}"#)
        let changes = ElementChanges.add(after, owner: Self.owner("a"), current: before + other)
        let tcp = before.first { $0.key == .port(.tcp, 8080) }!
        let bound = before.first { $0.set == .hostIPDNAT }!
        #expect(changes.deletions == [bound, tcp])
        #expect(changes.additions == [after.first { $0.key == .port(.tcp, 8080) }!])
        #expect(changes.conflicts.isEmpty)
    }

    /// Another container's DNAT key: a conflict naming protocol, port, address and owner; a
    /// masquerade pair with this container's own address is taken over.
    @Test func anotherOwnersKeyIsAConflictButAMasqueradePairIsTakenOver() throws {
        let mine = try Self.elements("a")
        let theirs = try Self.elements("b")
        let changes = ElementChanges.add(mine, owner: Self.owner("a"), current: theirs)
        #expect(
            changes.conflicts.map(\.description) == [
                "tcp port 8080 on every IPv4 address is already mapped by hostport-dual/b",
                "udp port 5353 on every IPv4 address is already mapped by hostport-dual/b",
                "tcp port 9090 on 192.0.2.1 is already mapped by hostport-dual/b",
            ])
        let pairs = mine.filter { $0.set == .masquerade }
        #expect(changes.deletions == theirs.filter { $0.set == .masquerade })
        #expect(changes.additions == pairs)
    }

    @Test func anElementWithoutOwnerIsAConflictToo() throws {
        let mine = try Self.elements("a", #"{"hostPort": 8080, "containerPort": 80, "hostIP": "2001:db8::1"}"#)
        #expect(mine.isEmpty)  // the IPv6 hostIP does not apply to the IPv4 address
        let v6 = Fixtures.planned(Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#), [.ipv6: Fixtures.v6]))[.ipv6]!
        var unowned = v6[0]
        unowned.owner = ""
        let changes = ElementChanges.add(v6, owner: Self.owner(Fixtures.containerID), current: [unowned])
        #expect(changes.conflicts.map(\.description) == ["tcp port 8080 on every IPv6 address is already mapped by an element without an owner comment"])
    }

    @Test func deleteTakesExactlyTheOwnersElements() throws {
        let a = try Self.elements("a")
        let b = try Self.elements("b", address: "10.89.0.6/24", #"{"hostPort": 1, "containerPort": 1}"#)
        let sameIDOtherNetwork = try Self.elements("a", network: "other", address: "10.89.0.7/24", #"{"hostPort": 2, "containerPort": 2}"#)
        #expect(ElementChanges.removal(of: Self.owner("a"), from: b + a + sameIDOtherNetwork) == ElementChanges(deletions: a))
        #expect(ElementChanges.removal(of: Self.owner("c"), from: a + b).isEmpty)
    }

    /// GC removes the network's containers that are not kept; other networks, hashed owners (too
    /// long to name their network) and comments the plugin did not write stay.
    @Test func garbageIsTheNetworksUnlistedContainers() throws {
        let kept = try Self.elements("kept", address: "10.89.0.5/24", #"{"hostPort": 1, "containerPort": 1}"#)
        let gone = try Self.elements("gone", address: "10.89.0.6/24", #"{"hostPort": 2, "containerPort": 2}"#)
        let otherNetwork = try Self.elements("gone", network: "other", address: "10.89.0.7/24", #"{"hostPort": 3, "containerPort": 3}"#)
        let longNetwork = String(repeating: "n", count: 100)
        let hashed = try Self.elements(String(repeating: "c", count: 64), network: longNetwork, address: "10.89.0.8/24", #"{"hostPort": 4, "containerPort": 4}"#)
        #expect(hashed.allSatisfy { $0.owner.hasPrefix("CNI-DN-") })
        var foreign = gone[0]
        foreign.owner = "someone else's comment"
        let current = kept + gone + otherNetwork + hashed + [foreign]
        #expect(ElementChanges.garbage(of: Fixtures.network, keeping: ["kept"], from: current) == ElementChanges(deletions: gone))
        #expect(ElementChanges.garbage(of: longNetwork, keeping: [], from: current).isEmpty)
        #expect(ElementChanges.garbage(of: "other", keeping: [], from: current) == ElementChanges(deletions: otherNetwork))
    }
}

/// CHECK's findings from a table's contents (no kernel).
struct TableCheckTests {
    static let owner = NFTablesPlanner.owner(network: Fixtures.network, containerID: Fixtures.containerID)

    static func plan() throws -> NFTablesFamilyPlan {
        NFTablesPlanner.plan(try Fixtures.config(), containerID: Fixtures.containerID, container: Fixtures.v4)
    }

    static func contents(
        _ elements: [NFTablesElement], chains: [String] = NFTablesLayout.chains(.ipv4),
        sets: [NFTablesElement.Set] = NFTablesElement.Set.allCases
    ) -> TableContents {
        TableContents(snapshot: NFTablesSnapshot(family: .ipv4, exists: true, chains: chains, elements: elements), sets: sets)
    }

    @Test func completeTableHasNoProblem() throws {
        let plan = try Self.plan()
        #expect(TableCheck.problems(plan, owner: Self.owner, in: Self.contents(plan.elements)).isEmpty)
    }

    @Test func missingTable() throws {
        let contents = TableContents(snapshot: NFTablesSnapshot(family: .ipv4, exists: false), sets: [])
        #expect(TableCheck.problems(try Self.plan(), owner: Self.owner, in: contents) == ["table ip cni_portmaps does not exist"])
    }

    @Test func eachProblemIsNamed() throws {
        let plan = try Self.plan()
        var elements = plan.elements.filter { $0.set != .hostIPDNAT }
        elements[0].destination = .init(address: IPAddress("10.89.0.9")!, port: 80)
        elements[1].owner = "hostport-dual/other"
        let extra = NFTablesElement(set: .hostPortDNAT, key: .port(.tcp, 1), destination: .init(address: Fixtures.v4.address, port: 1), owner: Self.owner)
        let problems = TableCheck.problems(
            plan, owner: Self.owner,
            in: Self.contents(
                elements + [extra], chains: ["hostports", "prerouting", "postrouting"],
                sets: [.hostPortDNAT, .hostIPDNAT]))
        #expect(
            problems == [
                "chain ip cni_portmaps output is missing",
                "chain ip cni_portmaps localnet_guard is missing",
                "set ip cni_portmaps masq_pairs is missing",
                #"element ip cni_portmaps hostport_dnat { tcp . 8080 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 80 } maps to 10.89.0.9 . 80 instead"#,
                #"element ip cni_portmaps hostport_dnat { udp . 5353 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 53 } belongs to hostport-dual/other"#,
                #"element ip cni_portmaps hostip_dnat { 192.0.2.1 . tcp . 9090 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 90 } is missing"#,
                #"unexpected element ip cni_portmaps hostport_dnat { tcp . 1 comment "hostport-dual/3e1fdcd8a5e9" : 10.89.0.5 . 1 } (not in the config)"#,
            ])
    }
}
