import PortmapCore
import Testing

@testable import NFTablesBackend
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// ADD's reading of only the elements under its planned keys: the requests (nft's own), the
/// kernel's recorded answers, and what ADD decides from them.
struct LookupTests {
    static let owner = NFTablesPlanner.owner(network: Fixtures.network, containerID: Fixtures.containerID)

    /// The fixture container's IPv4 elements: tcp . 8080, udp . 5353, 192.0.2.1 . tcp . 9090, and
    /// the masquerade pairs from 10.89.0.0/24 and 127.0.0.1.
    static func planned() throws -> [NFTablesElement] {
        try #require(Fixtures.planned(Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4]))[.ipv4])
    }

    /// Byte for byte what `nft get element` sends, attributes in its order; only the sequence
    /// number and the padding (which nft does not clear) differ.
    @Test func lookupsAreNftsGetElement() throws {
        let planned = try Self.planned()
        let pairs: [(NFTablesElement, [UInt8])] = [
            (planned[0], NftSent.getHostPortDNAT), (planned[2], NftSent.getHostIPDNAT),
            (planned[3], NftSent.getMasqueradeRange), (planned[4], NftSent.getMasqueradeAddress),
        ]
        for (element, nft) in pairs {
            #expect(
                BatchGoldenTests.comparable(TableMessages.getElement(element, family: .ipv4), sorted: false)
                    == BatchGoldenTests.comparable(nft, sorted: false))
        }
    }

    /// The kernel's answers as recorded: four lookups in one datagram, each answered by its
    /// element and an ACK, or by ENOENT alone; a range lookup answered by the range holding its
    /// first address.
    @Test func recordedAnswersReadAsElementsOrNothing() throws {
        let planned = try Self.planned()
        var absent = planned[0]
        absent.key = .port(.tcp, 8081)
        var narrower = planned[3]
        narrower.key = .sourceToPod(IPNetwork("10.89.0.0/25")!, Fixtures.v4.address)
        let transport = ReplayTransport(portID: Recorded.lookupPortID, Recorded.ipv4Lookups)
        let reader = TableReader(socket: NetfilterSocket(transport: transport, firstSequence: 1))
        let found = try reader.lookUp([.ipv4: [planned[0], absent, planned[3], narrower]])
        #expect(found?.found == [.ipv4: [planned[0], nil, planned[3], planned[3]]])
        #expect(found?.expiring == false)
        #expect(transport.left == 0)
        #expect(transport.sent == [Recorded.ipv4LookupRequests.flatMap { $0 }])
    }

    /// Many lookups go out in datagrams of `lookupsPerDatagram`, answered in order.
    @Test func manyLookupsGoOutInGroups() throws {
        let config = try Fixtures.config((1...40).map { #"{"hostPort": \#(10_000 + $0), "containerPort": 80}"# }.joined(separator: ","))
        let planned = try #require(Fixtures.planned(Fixtures.request(config, [.ipv4: Fixtures.v4]))[.ipv4])
        let kernel = FakeKernel(tables: [.ipv4: [planned[7]]])
        let found = try #require(try TableReader(socket: NetfilterSocket(transport: kernel, firstSequence: 1)).lookUp([.ipv4: planned]))
        #expect(found.found[.ipv4]?.map { $0 != nil } == planned.indices.map { $0 == 7 })
        #expect(kernel.sent.map { NetlinkBytes.split($0).count } == [32, planned.count - 32])
    }

    /// A lookup refused otherwise than ENOENT (a set of another type refuses the plugin's keys
    /// with EINVAL) leaves ADD nothing to rely on; a socket failure is thrown.
    @Test func refusalOtherThanAbsenceIsNoAnswer() throws {
        let planned = try Self.planned()
        let refusing = ScriptedTransport(answers: [[Control.error(ENOENT, sequence: 1), Control.error(EINVAL, sequence: 2)]])
        let reader = TableReader(socket: NetfilterSocket(transport: refusing, firstSequence: 1))
        #expect(try reader.lookUp([.ipv4: Array(planned.prefix(2))]) == nil)
        let silent = TableReader(socket: NetfilterSocket(transport: ScriptedTransport(answers: []), firstSequence: 1))
        #expect(throws: BackendError.self) { try silent.lookUp([.ipv4: planned]) }
    }

    // MARK: - Whether the answers suffice

    @Test func absentAndOtherOwnersKeysSuffice() throws {
        let planned = try Self.planned()
        var theirs = planned[0]
        theirs.owner = "hostport-dual/other"
        theirs.destination = .init(address: IPAddress("10.89.0.9")!, port: 80)
        let found: [NFTablesElement?] = [theirs, nil, nil, nil, nil]
        #expect(ElementChanges.lookupSuffices(planned: [.ipv4: planned], found: [.ipv4: found], owner: Self.owner))
        #expect(ElementChanges.lookupSuffices(planned: [.ipv4: planned, .ipv6: []], found: [:], owner: Self.owner))
    }

    /// This container's element under a planned key, even an identical one: it was added before,
    /// so every element is read to find what it no longer plans.
    @Test func ownElementNeedsEverything() throws {
        let planned = try Self.planned()
        #expect(!ElementChanges.lookupSuffices(planned: [.ipv4: planned], found: [.ipv4: [nil, nil, nil, planned[3], nil]], owner: Self.owner))
    }

    /// Another range than planned under a masquerade key: the planned one may be there too.
    @Test func otherRangeNeedsEverything() throws {
        let planned = try Self.planned()
        var wider = planned[3]
        wider.key = .sourceToPod(IPNetwork("0.0.0.0/0")!, Fixtures.v4.address)
        wider.owner = "hostport-dual/gone"
        #expect(!ElementChanges.lookupSuffices(planned: [.ipv4: planned], found: [.ipv4: [nil, nil, nil, wider, nil]], owner: Self.owner))
    }
}

/// ADD against the fake kernel with other containers' elements: what it reads, and what it sends.
struct LookupTransactionTests {
    static let owner = LookupTests.owner

    /// A thousand other containers' elements, none in the way: only the planned keys are looked
    /// up, no set is dumped, and the batch adds the container's elements.
    @Test func addBesideOthersReadsOnlyItsKeys() throws {
        let config = try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#)
        let others = (0..<1000).flatMap { index in
            var planned = NFTablesPlanner.plan(config, containerID: "c\(index)", container: IPNetwork("10.90.\(index / 250).\(index % 250 + 2)/16")!).elements
            planned[0].key = .port(.tcp, UInt16(10_000 + index))
            return planned
        }
        let setup = TransactionTests.Setup([.ipv4: others])
        let request = Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4])
        _ = try setup.backend.add(request)
        #expect(setup.kernel.elementDumps == 0)
        #expect(setup.kernel.requests == [16, 1, 1] + Array(repeating: 13, count: 5) + [1, 1])
        #expect(Set(setup.kernel.tables[.ipv4]!) == Set(others + Fixtures.planned(request)[.ipv4]!))
    }

    /// Another container's DNAT key: refused, nothing sent, nothing dumped.
    @Test func conflictIsFoundByLookup() throws {
        let other = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 5353, "containerPort": 53, "protocol": "udp"}"#), id: "other",
            [.ipv4: IPNetwork("10.89.0.9/24")!])
        let setup = TransactionTests.Setup(Fixtures.planned(other))
        #expect {
            try setup.backend.add(Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4]))
        } throws: { error in
            (error as? BackendError)?.message
                == "udp port 5353 on every IPv4 address is already mapped by hostport-dual/other; the nftables backend maps a port to one container only"
        }
        #expect(setup.kernel.batches.isEmpty)
        #expect(setup.kernel.elementDumps == 0)
    }

    /// A masquerade pair with this container's address left by a container gone without DEL: taken
    /// over (deleted, added with this owner) without reading the rest.
    @Test func masqueradePairIsTakenOverByLookup() throws {
        let request = Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4])
        let planned = Fixtures.planned(request)[.ipv4]!
        var left = planned[3]
        left.owner = "hostport-dual/gone"
        let setup = TransactionTests.Setup([.ipv4: [left]])
        _ = try setup.backend.add(request)
        #expect(setup.kernel.elementDumps == 0)
        #expect(Set(setup.kernel.tables[.ipv4]!) == Set(planned))
        let body = setup.kernel.batches[0].dropFirst().dropLast()
        #expect(body.map { NetlinkBytes($0).type & 0xFF } == [14] + Array(repeating: 12, count: planned.count))
    }

    /// A re-ADD of the same elements: found as this container's, so everything is read; nothing
    /// is sent.
    @Test func identicalReAddSendsNothing() throws {
        let request = Fixtures.request(try Fixtures.config())
        let setup = TransactionTests.Setup(Fixtures.planned(request))
        _ = try setup.backend.add(request)
        #expect(setup.kernel.batches.isEmpty)
        #expect(setup.kernel.elementDumps == 6)
    }

    /// A re-ADD with one mapping dropped and one changed: its element under a planned key makes
    /// ADD read everything, and the stale element goes, in both families.
    @Test func changedReAddRemovesTheStaleElements() throws {
        let before = Fixtures.request(try Fixtures.config())
        let after = Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 81}"#))
        let other = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 7070, "containerPort": 70}"#), id: "other",
            [.ipv4: IPNetwork("10.89.0.9/24")!, .ipv6: IPNetwork("2001:db8:89::9/64")!])
        let setup = TransactionTests.Setup(Fixtures.planned(before).merging(Fixtures.planned(other)) { $0 + $1 })
        _ = try setup.backend.add(after)
        #expect(setup.kernel.elementDumps == 6)
        #expect(setup.kernel.tables.mapValues { Set($0) } == Fixtures.planned(after).merging(Fixtures.planned(other)) { $0 + $1 }.mapValues { Set($0) })
    }

    /// The limit of reading by key: a second ADD without a DEL in between (which the CNI spec
    /// forbids) that shares no key with the first does not see the first one's elements, nor does
    /// the DEL that comes with the second's prevResult; a DEL without prevResult (or GC, once the
    /// container is gone) reads every element and removes them.
    @Test func reAddSharingNoKeyLeavesTheEarlierElementsUntilADeleteWithoutPrevResult() throws {
        let before = Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#), [.ipv6: Fixtures.v6])
        let after = Fixtures.request(try Fixtures.config(#"{"hostPort": 9000, "containerPort": 80}"#, #""snat": false,"#), [.ipv6: Fixtures.v6])
        let setup = TransactionTests.Setup(Fixtures.planned(before))
        _ = try setup.backend.add(after)
        #expect(setup.kernel.elementDumps == 0)
        #expect(Set(setup.kernel.tables[.ipv6]!) == Set(Fixtures.planned(before)[.ipv6]! + Fixtures.planned(after)[.ipv6]!))
        _ = try setup.backend.delete(after)
        #expect(setup.kernel.elementDumps == 0)
        #expect(Set(setup.kernel.tables[.ipv6]!) == Set(Fixtures.planned(before)[.ipv6]!))
        _ = try setup.backend.delete(Fixtures.request(after.config, [:]))
        #expect(setup.kernel.tables[.ipv6] == [])
    }

    /// DEL with prevResult looks its keys up and reads no element dump beside a thousand other
    /// containers; CHECK too.
    @Test func deleteAndCheckBesideOthersReadOnlyTheirKeys() throws {
        let config = try Fixtures.config()
        let others = (0..<1000).flatMap { index in
            var planned = NFTablesPlanner.plan(config, containerID: "c\(index)", container: IPNetwork("10.90.\(index / 250).\(index % 250 + 2)/16")!).elements
            planned[0].key = .port(.tcp, UInt16(10_000 + index))
            return planned.filter { $0.set == .hostPortDNAT && $0.key != .port(.udp, 5353) }
        }
        let request = Fixtures.request(config, [.ipv4: Fixtures.v4])
        let setup = TransactionTests.Setup([.ipv4: others + Fixtures.planned(request)[.ipv4]!])
        try setup.backend.check(request)
        _ = try setup.backend.delete(request)
        #expect(setup.kernel.elementDumps == 0)
        #expect(Set(setup.kernel.tables[.ipv4]!) == Set(others))
        #expect(throws: BackendError.self) { try setup.backend.check(request) }
    }
}
