import PortmapCore
import Testing

@testable import NFTablesBackend
@testable import Netlink

/// The backend's requests and batches against what nft 1.0.6 sends for the same table (`NftSent`):
/// the same messages, with the same flags and the same attributes, byte for byte. Where they differ
/// it is on purpose, and each difference is named: the batch carries the generation it was planned
/// from and asks for an ACK of its last message; libnftnl lays out a chain's and an element list's
/// top-level attributes in another order than nft's own code (the kernel reads them by type); an
/// element added to a set that already exists does not name the set by an id (nft sends the id
/// its cache gave the set; the kernel looks for the name first).
struct BatchGoldenTests {
    /// A message as compared with nft's: header fields but the sequence number, nfgenmsg, and the
    /// attributes without padding (nft does not clear it), sorted by type when `sorted`.
    static func comparable(_ message: [UInt8], sorted: Bool = true, droppingSetID: Bool = false) -> NetlinkBytes {
        var parsed = NetlinkBytes(message)
        parsed.sequence = 0
        if droppingSetID && parsed.type & 0xFF == 12 { parsed.attributes.removeAll { $0.type == 4 } }
        if sorted { parsed.attributes.sort { $0.type < $1.type } }
        return parsed
    }

    /// NFT_MSG_NEWCHAIN, NEWSETELEM, DELSETELEM: their top-level attributes come in libnftnl's order.
    static func inNftOrder(_ message: [UInt8]) -> Bool {
        ![3, 12, 14].contains(NetlinkBytes(message).type & 0xFF)
    }

    static func backend(_ kernel: FakeKernel, _ lock: ScratchLock) -> NFTablesBackend {
        NFTablesBackend(lockPath: lock.path, lockTimeoutMilliseconds: 100, openSocket: { NetfilterSocket(transport: kernel, firstSequence: 1) })
    }

    @Test(arguments: IPFamily.allCases)
    func addToAnEmptyNamespaceSendsNftsScript(_ family: IPFamily) throws {
        let nft = family == .ipv4 ? NftSent.ipv4Script : NftSent.ipv6Script
        let kernel = FakeKernel()
        let lock = ScratchLock()
        defer { lock.remove() }
        let address = family == .ipv4 ? Fixtures.v4 : Fixtures.v6
        _ = try Self.backend(kernel, lock).add(Fixtures.request(try Fixtures.config(), [family: address]))
        #expect(kernel.requests == [16, 1, 1, 1, 1])  // GETGEN, GETTABLE ip, ip6, and of the previous table
        let batch = try #require(kernel.batches.first)
        #expect(kernel.batches.count == 1)
        try Self.expectFraming(batch, like: nft, generation: 41)
        for (ours, theirs) in zip(Self.unacknowledged(batch).dropFirst(), nft.dropFirst()) {
            #expect(Self.comparable(ours) == Self.comparable(theirs))
            if Self.inNftOrder(theirs) { #expect(Self.comparable(ours, sorted: false) == Self.comparable(theirs, sorted: false)) }
        }
    }

    /// A re-ADD of the container at another address: the stale masquerade pairs go first, the
    /// replaced elements next, then the new ones, as in the script that moves it by hand.
    @Test func reAddElsewhereSendsNftsDeletesAndAdds() throws {
        let config = try Fixtures.config()
        let kernel = FakeKernel(tables: [.ipv4: Fixtures.planned(Fixtures.request(config, [.ipv4: Fixtures.v4]))[.ipv4]!])
        let lock = ScratchLock()
        defer { lock.remove() }
        _ = try Self.backend(kernel, lock).add(Fixtures.request(config, [.ipv4: IPNetwork("10.89.0.6/24")!]))
        // GETGEN, GETTABLE ip and ip6, the five planned elements looked up (the DNAT ones are
        // the container's), three element dumps, GETTABLE of the previous table.
        #expect(kernel.requests == [16, 1, 1] + Array(repeating: 13, count: 5) + [13, 13, 13] + [1, 1])
        let batch = try #require(kernel.batches.first)
        try Self.expectFraming(batch, like: NftSent.ipv4Change, generation: 41)
        for (ours, theirs) in zip(Self.unacknowledged(batch).dropFirst(), NftSent.ipv4Change.dropFirst()) {
            #expect(Self.comparable(ours) == Self.comparable(theirs, droppingSetID: true))
        }
    }

    /// DEL expires the elements as nft's `add element ... timeout 1s expires 1ms` does (in the
    /// order the table lists them), and sends nothing more where the kernel took the expirations.
    @Test func deleteSendsNftsExpirations() throws {
        let config = try Fixtures.config()
        let kernel = FakeKernel(tables: [.ipv4: Fixtures.planned(Fixtures.request(config, [.ipv4: Fixtures.v4]))[.ipv4]!])
        let lock = ScratchLock()
        defer { lock.remove() }
        _ = try Self.backend(kernel, lock).delete(Fixtures.request(config, [:]))
        let batch = try #require(kernel.batches.first)
        #expect(kernel.batches.count == 1)
        let expirations = NftSent.ipv4Expiry.filter { NetlinkBytes($0).type == 0x0A0C }
        let ours = Self.unacknowledged(batch).dropFirst().dropLast().map { Self.comparable($0) }
        #expect(ours.count == expirations.count)
        // nft names the set by its id as well (its cache knows it), which the kernel ignores here.
        for theirs in expirations { #expect(ours.contains(Self.comparable(theirs, droppingSetID: true))) }
        #expect(kernel.tables == [.ipv4: []])
    }

    /// A kernel that ignores the expirations (before 6.12): DEL finds the elements still there
    /// without one and sends nft's deletions in a second batch.
    @Test func deleteFallsBackToNftsDeletes() throws {
        let config = try Fixtures.config()
        let kernel = FakeKernel(tables: [.ipv4: Fixtures.planned(Fixtures.request(config, [.ipv4: Fixtures.v4]))[.ipv4]!])
        kernel.ignoresTimeoutUpdates = true
        let lock = ScratchLock()
        defer { lock.remove() }
        _ = try Self.backend(kernel, lock).delete(Fixtures.request(config, [:]))
        #expect(kernel.batches.count == 2)
        let deletes = NftSent.ipv4Change.filter { NetlinkBytes($0).type == 0x0A0E }
        let ours = Self.unacknowledged(try #require(kernel.batches.last)).dropFirst().dropLast().map { Self.comparable($0) }
        #expect(ours.count == deletes.count)
        for theirs in deletes { #expect(ours.contains(Self.comparable(theirs))) }
        #expect(kernel.tables == [.ipv4: []])
    }

    /// GETGEN and a set's element dump are nft's requests; the table is asked for without an ACK
    /// (its reply ends the exchange), chains are dumped for one family (nft dumps them all).
    @Test func requestsAreNfts() {
        #expect(Self.comparable(TableMessages.getGeneration(), sorted: false) == Self.comparable(NftSent.getGeneration, sorted: false))
        #expect(
            Self.comparable(TableMessages.dumpElements(.ipv4, .hostIPDNAT), sorted: false)
                == Self.comparable(NftSent.dumpHostIPDNAT, sorted: false))
        #expect(
            TableMessages.getTable(.ipv6)
                == hex(
                    "28000000 010a 0100 00000000 00000000",  // 40 bytes, NFT_MSG_GETTABLE, NLM_F_REQUEST, seq 0, port 0
                    "0a 00 0000",  // nfgenmsg: NFPROTO_IPV6, NFNETLINK_V0, res_id 0
                    "1100 0100 636e695f706f72746d61707300 000000"  // NFTA_TABLE_NAME "cni_portmaps", padding
                ))
    }

    /// The begin message is nft's with NFNL_BATCH_GENID (the generation, big-endian) added; the
    /// messages are numbered on from it; the last asks for an ACK; the end message is nft's.
    static func expectFraming(_ batch: [[UInt8]], like nft: [[UInt8]], generation: UInt32) throws {
        #expect(batch.count == nft.count)
        let begin = NetlinkBytes(batch[0])
        #expect(begin.type == 0x10 && begin.flags == 1 && begin.family == 0 && begin.resourceID == [0, 10])
        #expect(begin.attributes.map(\.bytes) == [[8, 0, 1, 0] + NetlinkBytes.littleEndian(generation.bigEndian)])
        #expect(Self.comparable(batch[batch.count - 1]) == Self.comparable(nft[nft.count - 1]))
        #expect(batch.map { NetlinkBytes($0).sequence } == (0..<UInt32(batch.count)).map { begin.sequence + $0 })
        let last = NetlinkBytes(batch[batch.count - 2])
        #expect(last.flags == NetlinkBytes(nft[nft.count - 2]).flags | 4)
        #expect(batch.dropFirst().dropLast(2).allSatisfy { NetlinkBytes($0).flags & 4 == 0 })
    }

    /// `batch` without the ACK its last message asks for, which nft does not ask for.
    static func unacknowledged(_ batch: [[UInt8]]) -> [[UInt8]] {
        var copy = batch
        let last = NetlinkBytes(batch[batch.count - 2])
        copy[batch.count - 2] = NetlinkBytes.renumbered(batch[batch.count - 2], sequence: last.sequence, flags: last.flags & ~4)
        return copy
    }
}
