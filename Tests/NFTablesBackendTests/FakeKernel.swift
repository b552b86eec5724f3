import Nftnl
import PortmapCore

@testable import NFTablesBackend
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A netfilter socket that answers as nf_tables would from a table state of its own, and records
/// every datagram sent. Its answers are made of the backend's own messages (a dump's element is
/// the NEWSETELEM that would add it), so what it checks is the backend's logic and bytes; that
/// the kernel reads them alike is for the recorded replies and the namespace tests.
final class FakeKernel: NetfilterTransport, @unchecked Sendable {
    enum BatchAnswer {
        /// Applied (when it has its end message), the last message acknowledged.
        case accept
        /// ERESTART on the begin message: another writer committed first (the generation moves on).
        case restart
        /// Message `index` refused with `errno`, the last acknowledged, nothing applied.
        case refuse(index: Int, errno: Int32)
    }

    let portID: UInt32 = 0
    var generation: UInt32 = 41
    /// The tables that exist, each with its elements.
    var tables: [IPFamily: [NFTablesElement]] = [:]
    /// The previous table (`NFTablesLayout.previousTable`) of the plugin's old layout, where it
    /// exists, with its elements; it holds no upstream rule.
    var previous: [IPFamily: [NFTablesElement]] = [:]
    /// Elements given an expiration (`ElementExpiry`): lookups still find them, dumps do not. One
    /// survives the first GETGEN after it (a verb's read within the same tick) and is gone at the
    /// second (time has passed).
    var expiring: [IPFamily: [NFTablesElement]] = [:]
    private var expiredAtNextRead: Set<IPFamily> = []
    /// A kernel before 6.12: an expiration sent for an element that is there changes nothing.
    var ignoresTimeoutUpdates = false
    /// How the next batches are answered, in order; then `.accept`.
    var batchAnswers: [BatchAnswer] = []
    private(set) var sent: [[UInt8]] = []
    private var queue: [[UInt8]] = []

    init(tables: [IPFamily: [NFTablesElement]] = [:], previous: [IPFamily: [NFTablesElement]] = [:]) {
        self.tables = tables
        self.previous = previous
    }

    /// The state of the table a message names (attribute 1 of every table, set and element
    /// message): ours or the previous one.
    private func state(_ request: NetlinkBytes) -> ReferenceWritableKeyPath<FakeKernel, [IPFamily: [NFTablesElement]]> {
        request.string(1) == NFTablesLayout.previousTable ? \.previous : \.tables
    }

    /// The batches sent, each as its messages (begin and end included).
    var batches: [[[UInt8]]] {
        sent.map(NetlinkBytes.split).filter { NetlinkBytes(($0.first ?? [])).type == 0x10 }
    }

    /// The requests sent outside batches, by nf_tables message type (NFT_MSG_*), several sent
    /// together one after the other.
    var requests: [UInt8] {
        sent.filter { NetlinkBytes($0).type != 0x10 }.flatMap(NetlinkBytes.split).map { UInt8(NetlinkBytes($0).type & 0xFF) }
    }

    /// How many set element dumps were asked for (GETSETELEM with NLM_F_DUMP).
    var elementDumps: Int {
        sent.filter { NetlinkBytes($0).type != 0x10 }.flatMap(NetlinkBytes.split).filter {
            NetlinkBytes($0).type & 0xFF == 13 && NetlinkBytes($0).flags & 0x300 != 0
        }.count
    }

    func send(_ datagram: [UInt8]) throws(NetlinkError) {
        sent.append(datagram)
        if NetlinkBytes(datagram).type == 0x10 {
            queue += answer(batch: NetlinkBytes.split(datagram))
            return
        }
        NetlinkBytes.split(datagram).forEach(answer(request:))
    }

    /// The reply to one request, queued: one datagram per message, as the kernel sends them.
    private func answer(request message: [UInt8]) {
        let request = NetlinkBytes(message)
        let family: IPFamily? = request.family == 2 ? .ipv4 : request.family == 10 ? .ipv6 : nil
        let sequence = request.sequence
        switch request.type & 0xFF {
        case 16:  // GETGEN
            for family in expiredAtNextRead { expiring[family] = nil }
            expiredAtNextRead = Set(expiring.keys)
            queue.append(
                NetlinkBytes.header(length: 28, type: 0x0A0F, flags: 0, sequence: sequence) + [0, 0, 0, 0]
                    + [8, 0, 1, 0] + NetlinkBytes.littleEndian(generation.bigEndian))
        case 1:  // GETTABLE
            queue.append(
                family.flatMap { self[keyPath: state(request)][$0] } == nil
                    ? Control.error(ENOENT, sequence: sequence)
                    : NetlinkBytes.renumbered(TableMessages.addTable(family!), sequence: sequence))
        case 13:  // GETSETELEM
            guard let family, let elements = self[keyPath: state(request)][family], let set = request.string(2).flatMap(NFTablesElement.Set.init)
            else {
                queue.append(Control.error(ENOENT, sequence: sequence))
                return
            }
            guard request.flags & 0x300 != 0 else {
                let leaving = request.string(1) == NFTablesLayout.table ? (expiring[family] ?? []).filter { $0.set == set } : []
                return lookUp(message, in: elements.filter { $0.set == set }, expiring: leaving, family: family, sequence: sequence)
            }
            dump(elements.filter { $0.set == set }.map { TableMessages.addElement($0, family: family, setID: nil) }, sequence: sequence)
        case 4:  // GETCHAIN
            let families = IPFamily.allCases.filter { tables[$0] != nil && (family == nil || family == $0) }
            dump(families.flatMap { family in TableLayout(family).chains.map { TableMessages.addChain($0, family: family) } }, sequence: sequence)
        case 10:  // GETSET
            guard let family, self[keyPath: state(request)][family] != nil else { return dump([], sequence: sequence) }
            dump(TableLayout(family).sets.enumerated().map { TableMessages.addSet($1, family: family, id: UInt32($0 + 1)) }, sequence: sequence)
        case 7:  // GETRULE: the previous table's chains hold no upstream rule here
            guard let family, previous[family] != nil, request.string(1) == NFTablesLayout.previousTable else {
                return queue.append(Control.error(ENOENT, sequence: sequence))
            }
            dump([], sequence: sequence)
        default:
            queue.append(Control.error(EOPNOTSUPP, sequence: sequence))
        }
    }

    func receive() throws(NetlinkError) -> [UInt8] {
        guard !queue.isEmpty else { throw NetlinkError(operation: "fake kernel: nothing to receive", errno: EAGAIN) }
        return queue.removeFirst()
    }

    func hasQueuedDatagram() -> Bool { !queue.isEmpty }

    func reserveSendBuffer(for size: Int) throws(NetlinkError) {}

    /// A GETSETELEM that is not a dump: its one element, answered as nf_tables answers it, by the
    /// element holding the key (in masq_pairs, the range holding the key's first address), then
    /// the ACK when asked for; or ENOENT.
    private func lookUp(_ message: [UInt8], in elements: [NFTablesElement], expiring: [NFTablesElement], family: IPFamily, sequence: UInt32) {
        guard let key = NftReplies.elements(message).first?.bytes.key else { return queue.append(Control.error(ENOENT, sequence: sequence)) }
        let answer: [UInt8]
        if let held = elements.first(where: { Self.holds($0, key) }) {
            answer = TableMessages.addElement(held, family: family, setID: nil)
        } else if let leaving = expiring.first(where: { Self.holds($0, key) }) {
            answer = TableMessages.expireElement(leaving, family: family)
        } else {
            return queue.append(Control.error(ENOENT, sequence: sequence))
        }
        queue.append(NetlinkBytes.renumbered(answer, sequence: sequence, flags: 0))
        if NetlinkBytes(message).flags & 4 != 0 { queue.append(Control.error(0, sequence: sequence)) }
    }

    /// Whether `element` holds `key`: the same key, or for a masq_pairs range, the same pod and a
    /// source from the range's first to its last address (in network order they compare as bytes).
    private static func holds(_ element: NFTablesElement, _ key: [UInt8]) -> Bool {
        let bytes = ElementCodec.encode(element)
        guard let end = bytes.keyEnd, key.count == bytes.key.count else { return bytes.key == key }
        let width = key.count / 2
        let source = key.prefix(width)
        return key.suffix(width) == bytes.key.suffix(width)
            && !source.lexicographicallyPrecedes(bytes.key.prefix(width)) && !end.prefix(width).lexicographicallyPrecedes(source)
    }

    /// A dump reply: the messages in one datagram, marked multipart, then NLMSG_DONE.
    private func dump(_ messages: [[UInt8]], sequence: UInt32) {
        if !messages.isEmpty {
            queue.append(messages.flatMap { NetlinkBytes.renumbered($0, sequence: sequence, flags: 2) })
        }
        queue.append(Control.done(sequence: sequence))
    }

    private func answer(batch messages: [[UInt8]]) -> [[UInt8]] {
        let begin = NetlinkBytes(messages[0])
        let commits = NetlinkBytes(messages[messages.count - 1]).type == 0x11
        let body = Array(messages.dropFirst().dropLast(commits ? 1 : 0))
        let last = NetlinkBytes(body[body.count - 1]).sequence
        if let stated = begin.attribute(1), stated != NetlinkBytes.littleEndian(generation.bigEndian) {
            return [Control.error(ERESTART, sequence: begin.sequence)]
        }
        switch batchAnswers.isEmpty ? .accept : batchAnswers.removeFirst() {
        case .restart:
            generation += 1
            return [Control.error(ERESTART, sequence: begin.sequence)]
        case .refuse(let index, let errno):
            return [Control.error(errno, sequence: NetlinkBytes(body[index]).sequence) + Control.error(0, sequence: last)]
        case .accept:
            if commits {
                body.forEach(apply)
                generation += 1
            }
            return [Control.error(0, sequence: last)]
        }
    }

    /// What a committed message does to the state: tables and elements (chains, sets and rules
    /// come with their table).
    private func apply(_ message: [UInt8]) {
        let parsed = NetlinkBytes(message)
        guard let family: IPFamily = parsed.family == 2 ? .ipv4 : parsed.family == 10 ? .ipv6 : nil else { return }
        switch parsed.type & 0xFF {
        case 0:  // NEWTABLE
            self[keyPath: state(parsed)][family] = self[keyPath: state(parsed)][family] ?? []
        case 12, 14:  // NEWSETELEM, DELSETELEM
            guard let set = parsed.string(2).flatMap(NFTablesElement.Set.init) else { return }
            let table = state(parsed)
            for (bytes, comment) in NftReplies.elements(message) {
                if parsed.type & 0xFF == 12, bytes.expiration != nil {
                    guard !ignoresTimeoutUpdates,
                        let index = self[keyPath: table][family]!.firstIndex(where: { $0.set == set && ElementCodec.encode($0).key == bytes.key })
                    else { continue }
                    expiring[family, default: []].append(self[keyPath: table][family]!.remove(at: index))
                    continue
                }
                self[keyPath: table][family]!.removeAll { $0.set == set && ElementCodec.encode($0).key == bytes.key }
                if parsed.type & 0xFF == 12, let element = ElementCodec.decode(bytes, set: set, family: family, owner: comment ?? "") {
                    self[keyPath: table][family]!.append(element)
                }
            }
        default:
            break
        }
    }
}
