import Netlink
import OwnThread
import PortmapCore

/// The addresses of the node's other network namespaces (`NetworkNamespaces.forEachOther`),
/// collected on a thread of their own while the caller works on what it read: the scan mostly
/// waits on threads and dumps, and on a node of a thousand pods takes a quarter of the read.
public final class PodAddressScan: @unchecked Sendable {
    private var thread: OwnThread?
    /// Set by the scan's thread before it ends; read after it is joined.
    private var outcome: Result<NamespaceScan<[IPAddress]>, HostNetworkError>?

    /// Starts the scan; `wait()` returns what it found.
    public init() throws(HostNetworkError) {
        do {
            thread = try OwnThread { [self] in
                outcome = Result { () throws(HostNetworkError) in
                    try NetworkNamespaces.forEachOther { () throws(HostNetworkError) in try NetlinkNodeReader().localAddresses() }
                }
            }
        } catch {
            throw HostNetworkError(operation: "start a thread to scan the network namespaces", errno: error.code)
        }
    }

    /// Waits for the scan to end: the addresses in each namespace visited, or why there was no scan.
    public func wait() -> Result<NamespaceScan<[IPAddress]>, HostNetworkError> {
        thread?.join()
        thread = nil
        return outcome!
    }
}
