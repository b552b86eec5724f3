import PortmapCore
import Snapshots
import Testing

@testable import HostScan
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Socket owners from a scratch /proc, and from the real one for a socket of this process.
struct SocketOwnersTests {
    typealias Owner = ListeningSocket.Owner

    /// Pids in numeric order (7 before 100, which text order would swap), each once however many
    /// descriptors it has; processes without readable descriptors or command, non-pid entries and
    /// sockets not asked about are skipped.
    @Test func scratchProc() throws {
        let proc = try ScratchTree(files: ["100/comm": "python3\n", "7/comm": "nginx\n", "self/comm": "self\n", "300/comm": "gone\n"])
        try proc.link("100/fd/3", to: "socket:[1001]")
        try proc.link("100/fd/4", to: "socket:[1001]")
        try proc.link("100/fd/5", to: "/dev/null")
        try proc.link("100/fd/6", to: "socket:[1002]")
        try proc.link("7/fd/9", to: "socket:[1001]")
        try proc.link("7/fd/10", to: "pipe:[1002]")
        try proc.link("self/fd/3", to: "socket:[1001]")
        try proc.link("200/fd/3", to: "socket:[1002]")  // exited: its comm is gone
        // 300 has no fd directory: it exited between the listing and the read
        let owners = try SocketOwners(proc: proc.root).owners(of: [1001, 1002, 1003])
        #expect(
            owners == [
                1001: [Owner(pid: 7, command: "nginx"), Owner(pid: 100, command: "python3")],
                1002: [Owner(pid: 100, command: "python3")],
            ])
    }

    @Test(
        arguments: [
            ("socket:[12345]", UInt32(12345)), ("socket:[4294967295]", UInt32.max), ("socket:[4294967296]", nil),
            ("socket:[]", nil), ("pipe:[12345]", nil), ("/dev/null", nil), ("socket:[12]x", nil),
        ] as [(String, UInt32?)])
    func socketLinkTargets(target: String, inode: UInt32?) {
        #expect(SocketOwners.socketInode(target) == inode)
    }

    /// A UDP socket of this very process is found with its pid and command.
    @Test func realProc() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var status = stat()
        try #require(fstat(descriptor, &status) == 0)
        let inode = UInt32(status.st_ino)
        let owners = try SocketOwners(proc: "/proc").owners(of: [inode])
        // A child another test forks holds it too until it execs; this process always does.
        #expect(Array(owners.keys) == [inode])
        #expect(owners[inode]?.contains(Owner(pid: getpid(), command: try ProcSysFile.firstLine(of: "/proc/self/comm"))) == true)
    }

    @Test func missingProcIsAnError() {
        #expect(throws: HostNetworkError(operation: "list the processes in /nonexistent/proc", errno: 2, message: "No such file or directory")) {
            try SocketOwners(proc: "/nonexistent/proc").owners(of: [1])
        }
    }

    /// With no sockets to find, /proc is not read at all.
    @Test func noSocketsReadsNothing() throws {
        #expect(try SocketOwners(proc: "/nonexistent/proc").owners(of: []).isEmpty)
    }
}
