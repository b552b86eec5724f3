import IPTablesLayout
import PortmapCore

extension NFTStore {
    /// Whether nf_tables answers in this namespace.
    package func isUsable() -> Bool {
        guard let socket = try? open() else { return false }
        return (try? NFTReader(socket: socket).generation()) != nil
    }

    /// What the iptables-nft tables hold: the chain names of each family's nat and mangle table
    /// (one chain dump per family; no rule is read), and whether such a table is there at all.
    /// Usable when nf_tables answers.
    package func census() -> StoreCensus {
        guard let socket = try? open() else { return StoreCensus(usable: false) }
        let reader = NFTReader(socket: socket)
        guard (try? reader.generation()) != nil else { return StoreCensus(usable: false) }
        var census = StoreCensus(usable: true)
        for family in Self.families {
            guard let chains = try? reader.chains(family) else { continue }
            for table in ["nat", "mangle"] {
                census.record(table: table, chains: chains.filter { $0.table == table }.map(\.name))
                // A table without chains counts: `iptables-nft -F` removes the base chains too.
                if !census.hasTables, (try? reader.tableExists(table, family: family)) == true { census.hasTables = true }
            }
        }
        return census
    }
}
