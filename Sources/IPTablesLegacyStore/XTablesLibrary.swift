internal import CIPTables
import IPTablesLayout
import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One libiptc handle on a table of one family: a snapshot of the kernel table, edited in memory
/// and replaced atomically by `commit()`.
///
/// The only Swift code that calls libiptc. Rule entries go in and out as bytes (see
/// `EntryCodec`); no C type is visible outside this file.
final class XTablesTable {
    let family: IPFamily
    /// nat or raw.
    let name: String
    private let functions: Functions
    private let handle: OpaquePointer

    /// Reads `table` of `family` from the kernel. For the legacy nat table this also instantiates it
    /// in the current network namespace if it was not yet (which DEL avoids: see `KernelTables`).
    init(table: String, family: IPFamily) throws(RuleTableError) {
        let functions = family == .ipv4 ? Functions.ipv4 : Functions.ipv6
        guard let handle = functions.initialize(table) else {
            throw functions.error(family, table, "open table", chain: nil)
        }
        self.family = family
        self.name = table
        self.functions = functions
        self.handle = handle
    }

    deinit {
        functions.free(handle)
    }

    func chainExists(_ chain: String) -> Bool {
        functions.isChain(chain, handle) != 0
    }

    /// Every chain of the table, built-in ones first, as libiptc orders them.
    func chainNames() -> [String] {
        var names: [String] = []
        var next = functions.firstChain(handle)
        while let name = next {
            names.append(String(cString: name))
            next = functions.nextChain(handle)
        }
        return names
    }

    /// The chain's entries in order, each with its position and libiptc's name for its target;
    /// only those whose target is in `targets` when it is given (the others are not copied out).
    func entries(in chain: String, targeting targets: Set<String>? = nil) throws(RuleTableError) -> [(index: Int, bytes: [UInt8], target: String)] {
        guard chainExists(chain) else { throw RuleTableError(family: family, table: name, operation: "list", chain: chain, errno: ENOENT, message: "no such chain") }
        let nextOffset = family == .ipv4 ? EntryLayout.ipv4.nextOffset : EntryLayout.ipv6.nextOffset
        var result: [(index: Int, bytes: [UInt8], target: String)] = []
        var entry = functions.firstRule(chain, handle)
        var index = 0
        while let pointer = entry {
            let target = functions.target(pointer, handle).map { String(cString: $0) } ?? ""
            if targets?.contains(target) ?? true {
                let size = Int(pointer.load(fromByteOffset: nextOffset, as: UInt16.self))
                result.append((index, Array(UnsafeRawBufferPointer(start: pointer, count: size)), target))
            }
            entry = functions.nextRule(pointer, handle)
            index += 1
        }
        return result
    }

    func createChain(_ chain: String) throws(RuleTableError) {
        try check(functions.createChain(chain, handle), "create chain", chain)
    }

    func flush(_ chain: String) throws(RuleTableError) {
        try check(functions.flush(chain, handle), "flush chain", chain)
    }

    func deleteChain(_ chain: String) throws(RuleTableError) {
        try check(functions.deleteChain(chain, handle), "delete chain", chain)
    }

    /// How many rules of the table jump to `chain`.
    func references(to chain: String) throws(RuleTableError) -> Int {
        var count: UInt32 = 0
        try check(functions.references(&count, chain, handle), "count references to", chain)
        return Int(count)
    }

    func append(_ entry: [UInt8], to chain: String) throws(RuleTableError) {
        let status = entry.withUnsafeBytes { functions.append(chain, $0.baseAddress, handle) }
        try check(status, "append rule to", chain)
    }

    /// Inserts before the rule at `index` (0-based).
    func insert(_ entry: [UInt8], into chain: String, at index: Int) throws(RuleTableError) {
        let status = entry.withUnsafeBytes { functions.insert(chain, $0.baseAddress, UInt32(index), handle) }
        try check(status, "insert rule into", chain)
    }

    /// Deletes the rule at `index` (0-based).
    func deleteEntry(in chain: String, at index: Int) throws(RuleTableError) {
        try check(functions.deleteNumber(chain, UInt32(index), handle), "delete rule from", chain)
    }

    /// Replaces the kernel table with this handle's version, in one `setsockopt`.
    func commit() throws(RuleTableError) {
        try check(functions.commit(handle), "commit", nil)
    }

    private func check(_ status: Int32, _ operation: String, _ chain: String?) throws(RuleTableError) {
        guard status != 0 else { throw functions.error(family, name, operation, chain: chain) }
    }

    /// libiptc's v4 and v6 entry points, which share one shape.
    private struct Functions: Sendable {
        let initialize: @Sendable (UnsafePointer<CChar>) -> OpaquePointer?
        let free: @Sendable (OpaquePointer) -> Void
        let isChain: @Sendable (UnsafePointer<CChar>, OpaquePointer) -> Int32
        let firstChain: @Sendable (OpaquePointer) -> UnsafePointer<CChar>?
        let nextChain: @Sendable (OpaquePointer) -> UnsafePointer<CChar>?
        let firstRule: @Sendable (UnsafePointer<CChar>, OpaquePointer) -> UnsafeRawPointer?
        let nextRule: @Sendable (UnsafeRawPointer, OpaquePointer) -> UnsafeRawPointer?
        let target: @Sendable (UnsafeRawPointer, OpaquePointer) -> UnsafePointer<CChar>?
        let createChain: @Sendable (UnsafePointer<CChar>, OpaquePointer) -> Int32
        let flush: @Sendable (UnsafePointer<CChar>, OpaquePointer) -> Int32
        let deleteChain: @Sendable (UnsafePointer<CChar>, OpaquePointer) -> Int32
        let references: @Sendable (UnsafeMutablePointer<UInt32>, UnsafePointer<CChar>, OpaquePointer) -> Int32
        let append: @Sendable (UnsafePointer<CChar>, UnsafeRawPointer?, OpaquePointer) -> Int32
        let insert: @Sendable (UnsafePointer<CChar>, UnsafeRawPointer?, UInt32, OpaquePointer) -> Int32
        let deleteNumber: @Sendable (UnsafePointer<CChar>, UInt32, OpaquePointer) -> Int32
        let commit: @Sendable (OpaquePointer) -> Int32
        let strerror: @Sendable (Int32) -> UnsafePointer<CChar>?

        func error(_ family: IPFamily, _ table: String, _ operation: String, chain: String?) -> RuleTableError {
            let code = cni_xt_errno()
            let message = strerror(code).map { String(cString: $0) } ?? "unknown error"
            return RuleTableError(family: family, table: table, operation: operation, chain: chain, errno: code, message: message)
        }

        static let ipv4 = Functions(
            initialize: { cni_ipt4_init($0) }, free: { cni_ipt4_free($0) },
            isChain: { cni_ipt4_is_chain($0, $1) }, firstChain: { cni_ipt4_first_chain($0) },
            nextChain: { cni_ipt4_next_chain($0) }, firstRule: { cni_ipt4_first_rule($0, $1) },
            nextRule: { cni_ipt4_next_rule($0, $1) }, target: { cni_ipt4_get_target($0, $1) },
            createChain: { cni_ipt4_create_chain($0, $1) }, flush: { cni_ipt4_flush_entries($0, $1) },
            deleteChain: { cni_ipt4_delete_chain($0, $1) }, references: { cni_ipt4_get_references($0, $1, $2) },
            append: { cni_ipt4_append_entry($0, $1, $2) }, insert: { cni_ipt4_insert_entry($0, $1, $2, $3) },
            deleteNumber: { cni_ipt4_delete_num_entry($0, $1, $2) }, commit: { cni_ipt4_commit($0) },
            strerror: { cni_ipt4_strerror($0) })

        static let ipv6 = Functions(
            initialize: { cni_ipt6_init($0) }, free: { cni_ipt6_free($0) },
            isChain: { cni_ipt6_is_chain($0, $1) }, firstChain: { cni_ipt6_first_chain($0) },
            nextChain: { cni_ipt6_next_chain($0) }, firstRule: { cni_ipt6_first_rule($0, $1) },
            nextRule: { cni_ipt6_next_rule($0, $1) }, target: { cni_ipt6_get_target($0, $1) },
            createChain: { cni_ipt6_create_chain($0, $1) }, flush: { cni_ipt6_flush_entries($0, $1) },
            deleteChain: { cni_ipt6_delete_chain($0, $1) }, references: { cni_ipt6_get_references($0, $1, $2) },
            append: { cni_ipt6_append_entry($0, $1, $2) }, insert: { cni_ipt6_insert_entry($0, $1, $2, $3) },
            deleteNumber: { cni_ipt6_delete_num_entry($0, $1, $2) }, commit: { cni_ipt6_commit($0) },
            strerror: { cni_ipt6_strerror($0) })
    }
}
