/// A network namespace of the node other than the caller's, as `NetworkNamespaces` found it.
public struct NetworkNamespace: Sendable, Hashable {
    /// Where it was found first: `/run/netns/<name>` for a named one (`ip netns`, CNI runtimes),
    /// else `/proc/<pid>/ns/net` of a process in it.
    public let path: String
    let identity: FileIdentity

    /// Its nsfs inode: the number in `net:[…]` that `ls -l /proc/<pid>/ns/net` and `lsns` show.
    public var inode: UInt64 { identity.inode }
}

/// What `NetworkNamespaces.forEachOther` brought back: the body's result in each namespace it
/// entered, and how many it could not enter.
public struct NamespaceScan<Value> {
    public struct Visit {
        public let namespace: NetworkNamespace
        public let value: Value
    }

    /// One per namespace, named ones first.
    public let visits: [Visit]
    /// Namespace files that could not be read or entered: gone by then (the process exited, the
    /// name was deleted), refused (a namespace of a user namespace we hold no privilege in), or
    /// not a namespace (a stale file in /run/netns). Their addresses are missing from `visits`.
    public let skipped: Int
}

extension NamespaceScan: Sendable where Value: Sendable {}
extension NamespaceScan.Visit: Sendable where Value: Sendable {}
