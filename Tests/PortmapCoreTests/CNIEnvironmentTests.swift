import Testing

@testable import PortmapCore

struct CNIEnvironmentTests {
    static let add = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc-1.2_3", "CNI_NETNS": "/var/run/netns/p", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"]

    @Test func acceptsACompleteAdd() throws {
        let env = try CNIEnvironment(Self.add)
        #expect(env == CNIEnvironment(command: .add, containerID: "abc-1.2_3", netns: "/var/run/netns/p", ifName: "eth0", path: "/opt/cni/bin"))
    }

    @Test func delDoesNotNeedANetns() throws {
        var env = Self.add
        env["CNI_COMMAND"] = "DEL"
        env["CNI_NETNS"] = nil
        #expect(try CNIEnvironment(env).command == .delete)
    }

    @Test(
        arguments: [
            ("CNI_CONTAINERID", nil, "[CNI_CONTAINERID] missing"),
            ("CNI_NETNS", nil, "[CNI_NETNS] missing"),
            ("CNI_IFNAME", nil, "[CNI_IFNAME] missing"),
            ("CNI_PATH", "", "[CNI_PATH] missing"),
            ("CNI_COMMAND", "BOGUS", "unknown CNI_COMMAND: BOGUS"),
            ("CNI_CONTAINERID", "bad id!", "invalid characters in CNI_CONTAINERID"),
            ("CNI_CONTAINERID", "-leading", "invalid characters in CNI_CONTAINERID"),
            ("CNI_IFNAME", "a-very-long-interface", "CNI_IFNAME is too long"),
            ("CNI_IFNAME", "eth/0", "not a valid interface name"),
        ] as [(String, String?, String)])
    func rejectsWithCode4(name: String, value: String?, message: String) {
        var env = Self.add
        env[name] = value
        #expect {
            _ = try CNIEnvironment(env)
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            return error.code == .invalidEnvironmentVariables && error.msg.contains(message)
        }
    }
}
