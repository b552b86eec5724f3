import Netlink
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a node's network namespaces are found: the directories `ip netns` and CNI runtimes bind
/// named ones into, and each process's /proc/<pid>/ns/net. The roots move for tests.
struct NamespaceListing {
    static let node = NamespaceListing(namedDirectories: ["/run/netns", "/var/run/netns"], proc: "/proc")

    /// Read in this order; missing ones are skipped. When two are one directory (/var/run is
    /// usually a link to /run), the second finds only namespaces already found.
    let namedDirectories: [String]
    let proc: String

    /// One file per namespace but `own`, named ones first so a namespace is shown by its name.
    /// Files gone before they could be read (a process that exited) are left out unnoticed; those
    /// that cannot be read otherwise (another user's process, for one without CAP_SYS_PTRACE) are
    /// counted as `unreadable`, since the namespace behind them is unknown.
    func namespaces(other own: FileIdentity) throws(HostNetworkError) -> (found: [NetworkNamespace], unreadable: Int) {
        var seen: Set<FileIdentity> = [own]
        var found: [NetworkNamespace] = []
        var unreadable = 0
        func add(_ path: String) {
            do {
                let identity = try FileIdentity(path: path)
                if seen.insert(identity).inserted { found.append(NetworkNamespace(path: path, identity: identity)) }
            } catch {
                if error.errno != .noSuchFileOrDirectory && error.errno != .noSuchProcess { unreadable += 1 }
            }
        }
        for directory in namedDirectories {
            try DirectoryEntries.names(in: directory)?.sorted().forEach { add("\(directory)/\($0)") }
        }
        for entry in try DirectoryEntries.names(in: proc) ?? [] where UInt32(entry) != nil {
            add("\(proc)/\(entry)/ns/net")
        }
        return (found, unreadable)
    }
}
