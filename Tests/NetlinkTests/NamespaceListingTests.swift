import PortmapCore
import Testing

@testable import HostScan
@testable import Netlink

/// Which namespace files the walker lists, over a scratch tree where hard links stand for two
/// files of one namespace (they share device and inode, as nsfs files of one namespace do).
struct NamespaceListingTests {
    @Test func eachNamespaceOnceNamedFirstNeverOurOwn() throws {
        let tree = try ScratchTree(files: [
            "run/netns/b": "", "run/netns/a": "", "own": "",
            "proc/2/ns/net": "",
            "proc/self/ns/net": "",  // not a pid: not read
            "proc/4/status": "",  // no ns/net any more: the process exited
            "proc/5/ns": "",  // ns/net cannot be read (ENOTDIR here; EACCES for another user's process)
        ])
        try tree.link("var/run", to: "../run")
        try tree.hardLink("run/netns/own-by-name", to: "own")
        try tree.hardLink("proc/1/ns/net", to: "run/netns/a")
        try tree.hardLink("proc/3/ns/net", to: "own")
        try tree.hardLink("proc/6/ns/net", to: "proc/2/ns/net")
        let named = ["run/netns", "var/run/netns", "nothing/netns"].map { "\(tree.root)/\($0)" }
        let listing = NamespaceListing(namedDirectories: named, proc: "\(tree.root)/proc")
        let (found, unreadable) = try listing.namespaces(other: FileIdentity(path: "\(tree.root)/own"))
        #expect(found.map(\.path) == ["run/netns/a", "run/netns/b", "proc/2/ns/net"].map { "\(tree.root)/\($0)" })
        let identities = try ["run/netns/a", "run/netns/b", "proc/6/ns/net"].map { path throws(HostNetworkError) in
            try FileIdentity(path: "\(tree.root)/\(path)")
        }
        #expect(found.map(\.identity) == identities)
        #expect(unreadable == 1)
    }
}
