import Foundation
import TestSubprocess
import Testing

extension NamespaceTests {
    /// The node as a router: a client's connection through it to another host on a mapped port is
    /// forwarded untouched; only the node's own addresses are DNATed (`addrtype LOCAL` in iptables,
    /// `fib daddr type local` in nftables).
    @Suite
    struct TransitTests {
        @Test(arguments: TestBackend.allCases)
        func trafficToAnotherHostOnAMappedPortPassesThrough(backend: TestBackend) throws {
            let lab = try NetnsLab()
            defer { lab.tearDown() }
            let pod = try lab.addPod(
                "t", chain: try lab.chain("20-hostport-dualstack.conflist", overrides: backend.overrides),
                mappings: TrafficTests.web)
            #expect(try lab.wrote(pod, with: backend))
            let remote = try lab.addRemoteHost()
            let server = try Subprocess.Background([
                "ip", "netns", "exec", remote, "python3",
                Prerequisites.scripts.appendingPathComponent("pod_server.py").path,
                "--name", "remote", "--tcp", "8080", "--udp", "8081",
            ])
            defer { server.stop() }
            // The mapping answers on the node's addresses...
            #expect(try lab.probe("tcp", NetnsLab.nodeIPv4, 8080) == "t from \(NetnsLab.clientIPv4)")
            // ...and the same ports on the remote host are the remote host's, over both families.
            #expect(try lab.probe("tcp", NetnsLab.remoteIPv4, 8080) == "remote from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("udp", NetnsLab.remoteIPv4, 8081) == "remote from \(NetnsLab.clientIPv4)")
            #expect(try lab.probe("tcp", NetnsLab.remoteIPv6, 8080) == "remote from \(NetnsLab.clientIPv6)")
            #expect(try lab.probe("udp", NetnsLab.remoteIPv6, 8081) == "remote from \(NetnsLab.clientIPv6)")
        }
    }
}
