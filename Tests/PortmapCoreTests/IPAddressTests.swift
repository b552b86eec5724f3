import Testing

@testable import PortmapCore

struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("::", "::"), ("::1", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8::a:0:0:0", "2001:db8:0:0:a::"), ("fe80::1:2:3:4", "fe80::1:2:3:4"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
        ("::ffff:192.0.2.1", "192.0.2.1"), ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
    ])
    func parsesAndPrintsCanonically(text: String, canonical: String) throws {
        #expect(try #require(IPAddress(text)).description == canonical)
    }

    @Test(arguments: [
        "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.", "", "a.b.c.d", ":::", "1::2::3",
        "1:2:3:4:5:6:7:8:9", "12345::", "2001:db8::1%eth0", ":1::", "1:", "::1.2.3",
    ])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func networksMaskTheirHostBits() throws {
        #expect(try #require(IPNetwork("10.0.0.2/24")).network.description == "10.0.0.0/24")
        #expect(try #require(IPNetwork("2001:db8::2/64")).network.description == "2001:db8::/64")
        #expect(try #require(IPNetwork("2001:db8:1:2:3::7/72")).network.description == "2001:db8:1:2::/72")
        #expect(IPNetwork("10.0.0.2/33") == nil)
        #expect(IPNetwork("10.0.0.2") == nil)
        let mask = try #require(IPNetwork("10.0.0.0/20")).mask
        #expect(IPNetwork(address: .v4(0x0A00_0000), mask: mask)?.prefixLength == 20)
        #expect(IPNetwork(address: .v4(0), mask: .v4(0xFF00_FF00)) == nil)
    }
}
