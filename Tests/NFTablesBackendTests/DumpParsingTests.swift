import Nftnl
import PortmapCore
import Testing

@testable import NFTablesBackend
@testable import Netlink

/// A socket that replays recorded datagrams in order, whatever is asked.
final class ReplayTransport: NetfilterTransport, @unchecked Sendable {
    let portID: UInt32
    private var datagrams: [[UInt8]]
    private(set) var sent: [[UInt8]] = []

    init(portID: UInt32, _ datagrams: [[UInt8]]) {
        self.portID = portID
        self.datagrams = datagrams
    }

    var left: Int { datagrams.count }

    func send(_ message: [UInt8]) throws(NetlinkError) { sent.append(message) }

    func receive() throws(NetlinkError) -> [UInt8] {
        guard !datagrams.isEmpty else { throw NetlinkError(operation: "replay: nothing left", errno: 11) }
        return datagrams.removeFirst()
    }

    func hasQueuedDatagram() -> Bool { !datagrams.isEmpty }

    func reserveSendBuffer(for size: Int) throws(NetlinkError) {}
}

/// The kernel's own replies (`Recorded`), read through the socket, libnftnl and the element codec.
struct DumpParsingTests {
    static let owner = NFTablesPlanner.owner(network: Fixtures.network, containerID: Fixtures.containerID)

    @Test func ipv4TableReadsBackAsThePlanPlusTheForeignElement() throws {
        let transport = ReplayTransport(portID: Recorded.portID, Recorded.ipv4Reading)
        let reader = TableReader(socket: NetfilterSocket(transport: transport, firstSequence: 1))
        #expect(try reader.generation() == 3)
        let contents = try reader.contents(.ipv4)
        #expect(try reader.tableExists(.ipv6) == false)
        #expect(transport.left == 0)

        #expect(contents.snapshot.exists)
        #expect(contents.snapshot.chains == NFTablesLayout.chains(.ipv4))
        #expect(contents.sets == NFTablesElement.Set.allCases)
        let planned = try #require(Fixtures.planned(Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4]))[.ipv4])
        let foreign = NFTablesElement(
            set: .hostPortDNAT, key: .port(.tcp, 7070),
            destination: .init(address: IPAddress("10.89.0.7")!, port: 70), owner: "")
        // Dump order: hostport_dnat (the kernel's hash order), hostip_dnat, masq_pairs.
        #expect(Set(contents.snapshot.elements) == Set(planned + [foreign]))
        #expect(contents.snapshot.elements.count == planned.count + 1)
        #expect(contents.snapshot.elements.suffix(3) == planned.suffix(3))
    }

    @Test func ipv6ElementsReadBackAsThePlan() throws {
        let reader = TableReader(
            socket: NetfilterSocket(
                transport: ReplayTransport(portID: Recorded.portID, Recorded.ipv6Elements),
                firstSequence: 1))
        let planned = try #require(Fixtures.planned(Fixtures.request(try Fixtures.config(), [.ipv6: Fixtures.v6]))[.ipv6])
        let elements = try reader.elements(.ipv6)
        #expect(Set(elements) == Set(planned))
        #expect(elements.count == planned.count)
    }

    /// DEL's and GC's read: only the elements whose owner is accepted come back (the others are
    /// skipped before their bytes are copied), in dump order.
    @Test func elementsOfOtherOwnersAreSkipped() throws {
        func read(_ owners: @escaping (String) -> Bool) throws -> [NFTablesElement] {
            let transport = ReplayTransport(portID: Recorded.portID, Recorded.ipv6Elements)
            return try TableReader(socket: NetfilterSocket(transport: transport, firstSequence: 1)).elements(.ipv6, owners: owners)
        }
        let planned = try #require(Fixtures.planned(Fixtures.request(try Fixtures.config(), [.ipv6: Fixtures.v6]))[.ipv6])
        #expect(Set(try read { $0 == Self.owner }) == Set(planned))
        #expect(try read { $0 != Self.owner }.isEmpty)
        let masquerade = NetlinkBytes.split(Recorded.ipv4Reading[10])[0]
        #expect(NftReplies.elements(masquerade, keeping: { $0 == Self.owner }).count == 2)
        #expect(NftReplies.elements(masquerade, keeping: { $0 == "other-net/ctr" }).isEmpty)
    }

    /// What libnftnl makes of a recorded masq_pairs dump: the range's first and last key, the
    /// owner from the comment TLV.
    @Test func masqueradePairsAreRanges() throws {
        let message = NetlinkBytes.split(Recorded.ipv4Reading[10])[0]
        let elements = NftReplies.elements(message)
        #expect(
            elements.map(\.bytes) == [
                ElementBytes(key: hex("0a590000 0a590005"), keyEnd: hex("0a5900ff 0a590005")),
                ElementBytes(key: hex("7f000001 0a590005"), keyEnd: hex("7f000001 0a590005")),
            ])
        #expect(elements.map(\.comment) == [Self.owner, Self.owner])
        // The dump's trailing message holds no element.
        #expect(NftReplies.elements(NetlinkBytes.split(Recorded.ipv4Reading[11])[0]).isEmpty)
    }

    @Test func generationAndNamesComeFromTheirMessages() {
        #expect(NftReplies.generation(Recorded.ipv4Reading[0]) == 3)
        let chains = NetlinkBytes.split(Recorded.ipv4Reading[2]).compactMap(NftReplies.chain)
        #expect(chains.map(\.table) == Array(repeating: NFTablesLayout.table, count: 5))
        #expect(NetlinkBytes.split(Recorded.ipv4Reading[4]).compactMap(NftReplies.setName) == ["hostip_dnat", "hostport_dnat", "masq_pairs"])
        #expect(NftReplies.generation(Array(Recorded.ipv4Reading[0].prefix(12))) == nil)
    }
}

/// Plan elements to kernel bytes and back.
struct ElementCodecTests {
    @Test(arguments: [Fixtures.v4, Fixtures.v6])
    func everyPlannedElementRoundTrips(_ address: IPNetwork) throws {
        for extra in ["", #""masqAll": true,"#] {
            let request = Fixtures.request(try Fixtures.config(Fixtures.mappings, extra), [address.family: address])
            for element in try #require(Fixtures.planned(request)[address.family]) {
                #expect(ElementCodec.decode(ElementCodec.encode(element), set: element.set, family: address.family, owner: element.owner) == element)
            }
        }
    }

    @Test func keysAreLaidOutInRegisterSlots() {
        let element = NFTablesElement(
            set: .hostIPDNAT, key: .hostPort(IPAddress("192.0.2.1")!, .udp, 53),
            destination: .init(address: IPAddress("10.0.0.1")!, port: 5353), owner: "n/c")
        #expect(ElementCodec.encode(element) == ElementBytes(key: hex("c0000201 11000000 00350000"), data: hex("0a000001 14e90000")))
        let all = NFTablesElement(set: .masquerade, key: .sourceToPod(IPNetwork("0.0.0.0/0")!, IPAddress("10.0.0.1")!), owner: "n/c")
        #expect(ElementCodec.encode(all) == ElementBytes(key: hex("00000000 0a000001"), keyEnd: hex("ffffffff 0a000001")))
    }

    /// Bytes not of the set's type, and ranges that are no prefix, are not the plugin's elements.
    @Test func foreignBytesDoNotDecode() {
        let pod = hex("0a000001")
        for (first, last) in [("0a000000", "0a0000fe"), ("0a000001", "0a0000ff"), ("0a0000ff", "0a000000")] {
            #expect(ElementCodec.decode(ElementBytes(key: hex(first) + pod, keyEnd: hex(last) + pod), set: .masquerade, family: .ipv4, owner: "") == nil)
        }
        #expect(
            ElementCodec.decode(
                ElementBytes(key: hex("0a000000") + pod, keyEnd: hex("0a0000ff") + hex("0a000002")),
                set: .masquerade, family: .ipv4, owner: "") == nil)
        #expect(ElementCodec.decode(ElementBytes(key: hex("06000000 1f900000"), data: hex("0a000001")), set: .hostPortDNAT, family: .ipv4, owner: "") == nil)
        #expect(
            ElementCodec.decode(
                ElementBytes(key: hex("01000000 1f900000"), data: hex("0a000001 00500000")), set: .hostPortDNAT,
                family: .ipv4, owner: "") == nil)  // ICMP
        #expect(
            ElementCodec.decode(
                ElementBytes(key: hex("06000000 1f900000"), data: hex("0a000001 00500000")), set: .hostPortDNAT,
                family: .ipv6, owner: "") == nil)
    }
}
