import NodeLock
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// CNI STATUS for the nftables backend.
extension NFTablesBackend {
    /// STATUS: whether an ADD of `config` could be served now, found out without changing
    /// anything and without the lock (containerd asks every few seconds; a holder only delays an
    /// ADD). That is, when
    /// - the lock file could be opened as an ADD opens it, and
    /// - the kernel accepts the batch an ADD of `config` would send, for a trial container with a
    ///   TCP and a UDP mapping on a port no element uses, at a documentation address in each family
    ///   the kernel runs (IPv6 unless it is disabled): the table where it is missing, the elements.
    ///   The batch goes without its end message, so the kernel checks every message (instantiating
    ///   the table, loading the modules of the expressions) and then throws the batch away, as for
    ///   `nft --check`: no table is left behind.
    public func status(_ config: PortMapConfig) throws(BackendError) {
        try NodeLock.checkOpenable(path: lockPath, name: NFTablesLock.name)
        let families: [IPFamily] = access("/proc/net/if_inet6", F_OK) == 0 ? [.ipv4, .ipv6] : [.ipv4]
        do throws(BackendError) {
            try transact(commits: false) { reader throws(BackendError) in
                var tables: [IPFamily: [NFTablesElement]] = [:]
                for family in families where try reader.tableExists(family) {
                    tables[family] = try reader.elements(family)
                }
                var trial = config
                let port = Self.unusedPort(in: tables.values.flatMap { $0 })
                trial.portMappings = [
                    PortMapping(hostPort: port, containerPort: port, protocol: .tcp),
                    PortMapping(hostPort: port, containerPort: port, protocol: .udp),
                ]
                var batch = BatchBuilder()
                for family in families {
                    let address = family == .ipv4 ? IPNetwork("192.0.2.2/24")! : IPNetwork("2001:db8::2/64")!
                    let elements = NFTablesPlanner.plan(trial, containerID: "status-probe", container: address).elements
                    if tables[family] == nil { batch.createTable(family) }
                    batch.apply(ElementChanges(additions: elements), family: family)
                }
                return batch
            }
        } catch {
            throw BackendError(error.kind, "nftables: a trial ADD was not accepted", details: error.description)
        }
    }

    /// The lowest port no element maps for TCP or UDP on every address, so the trial's elements
    /// meet none.
    static func unusedPort(in elements: [NFTablesElement]) -> UInt16 {
        var used: Set<UInt16> = []
        for element in elements {
            if case .port(let transport, let port) = element.key, transport != .sctp { used.insert(port) }
        }
        return (1...UInt16.max).first { !used.contains($0) } ?? 1
    }
}
