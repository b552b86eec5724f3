import Netlink
import PortmapCore
import Snapshots

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which processes hold which sockets, from `/proc/<pid>/fd`: a socket's descriptor is a symlink to
/// `socket:[<inode>]`, the inode sock_diag reports. Plain POSIX (opendir, readlink), no `ss -p`.
///
/// Processes come and go during the scan, and another user's descriptors are unreadable without
/// CAP_SYS_PTRACE: a process whose descriptors or command cannot be read is skipped, so an owner
/// can be missing but none is made up.
struct SocketOwners {
    /// The root of procfs, `/proc` but for tests.
    let proc: String

    /// The processes holding each of `inodes`, by ascending pid, each once however many
    /// descriptors it has for the socket. Throws only when `proc` itself cannot be listed.
    func owners(of inodes: Set<UInt32>) throws(HostNetworkError) -> [UInt32: [ListeningSocket.Owner]] {
        guard !inodes.isEmpty else { return [:] }
        guard let entries = try DirectoryEntries.names(in: proc) else {
            throw HostNetworkError(operation: "list the processes in \(proc)", errno: ENOENT)
        }
        var owners: [UInt32: [ListeningSocket.Owner]] = [:]
        for pid in entries.compactMap({ Int32($0) }).sorted() {
            let held = socketInodes(of: pid).intersection(inodes)
            guard !held.isEmpty, let command = try? ProcSysFile.firstLine(of: "\(proc)/\(pid)/comm") else { continue }
            for inode in held {
                owners[inode, default: []].append(ListeningSocket.Owner(pid: pid, command: command))
            }
        }
        return owners
    }

    /// The inodes of the sockets `pid` has descriptors for; none when its descriptors are unreadable
    /// or it is gone.
    private func socketInodes(of pid: Int32) -> Set<UInt32> {
        let directory = "\(proc)/\(pid)/fd"
        let descriptors = (try? DirectoryEntries.names(in: directory)) ?? []
        return Set(descriptors.compactMap { Self.socketInode(Self.link("\(directory)/\($0)")) })
    }

    /// `12345` from `socket:[12345]`; nil for any other link target (files, pipes, anon inodes).
    static func socketInode(_ target: String?) -> UInt32? {
        guard let target, target.hasPrefix("socket:["), target.hasSuffix("]") else { return nil }
        return UInt32(target.dropFirst("socket:[".count).dropLast())
    }

    /// A symlink's target, cut at 64 bytes: enough for `socket:[4294967295]`, and a longer target
    /// is no socket. nil when the link is gone.
    private static func link(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}
