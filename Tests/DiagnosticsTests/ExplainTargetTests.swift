import Diagnostics
import PortmapCore
import Testing

@Suite struct ExplainTargetTests {
    @Test(arguments: [
        ("192.0.2.1:8080", "192.0.2.1", 8080, TransportProtocol.tcp),
        ("192.0.2.1:53/udp", "192.0.2.1", 53, .udp),
        ("[2001:db8::1]:443/TCP", "2001:db8::1", 443, .tcp),
        ("127.0.0.1:9/sctp", "127.0.0.1", 9, .sctp),
    ])
    func parses(text: String, address: String, port: Int, transport: TransportProtocol) {
        let target = ExplainTarget(parsing: text)
        #expect(target == ExplainTarget(address: IPAddress(address)!, port: UInt16(port), protocol: transport))
    }

    @Test(arguments: [
        "192.0.2.1", "192.0.2.1:0", "192.0.2.1:65536", "2001:db8::1:80", "[192.0.2.1]:80",
        "192.0.2.1:80/icmp", "host:80", ":80", "192.0.2.1:80/",
    ])
    func refuses(text: String) {
        #expect(ExplainTarget(parsing: text) == nil)
    }

    @Test func printsIPv6InBrackets() {
        #expect(ExplainTarget(parsing: "[2001:db8::1]:53/udp")?.description == "[2001:db8::1]:53/udp")
    }
}
