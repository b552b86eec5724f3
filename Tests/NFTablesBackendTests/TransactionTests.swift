import Nftnl
import PortmapCore
import Testing

@testable import NFTablesBackend
@testable import Netlink

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The verbs against the fake kernel: what is read, what is sent, and what comes of the answers.
struct TransactionTests {
    /// A backend over `kernel`, with a lock file of its own (removed when the test ends).
    final class Setup {
        let kernel: FakeKernel
        let lock = ScratchLock()
        let backend: NFTablesBackend

        init(_ tables: [IPFamily: [NFTablesElement]] = [:]) {
            let kernel = FakeKernel(tables: tables)
            self.kernel = kernel
            backend = NFTablesBackend(
                lockPath: lock.path, lockTimeoutMilliseconds: 100,
                openSocket: { NetfilterSocket(transport: kernel, firstSequence: 1) })
        }

        deinit { lock.remove() }
    }

    static let owner = NFTablesPlanner.owner(network: Fixtures.network, containerID: Fixtures.containerID)

    @Test func addCreatesBothTablesInOneBatchAndReAddSendsNothing() throws {
        let setup = Setup()
        let request = Fixtures.request(try Fixtures.config())
        _ = try setup.backend.add(request)
        #expect(setup.kernel.batches.count == 1)
        #expect(setup.kernel.tables == Fixtures.planned(request))
        _ = try setup.backend.add(request)
        #expect(setup.kernel.batches.count == 1)
        // The first ADD: GETGEN and GETTABLE per family, of ours and of the previous table; the
        // second looks up its nine elements, finds them its own, and reads every element.
        #expect(
            setup.kernel.requests == [16, 1, 1, 1, 1, 16, 1, 1] + Array(repeating: 13, count: 9) + [13, 13, 13, 13, 13, 13] + [1, 1])
        try setup.backend.check(request)
    }

    /// A new container's ADD right after the DEL of the one whose hostPorts it takes: the old
    /// elements are still expiring under its keys, so it reads again after a back-off (two GETGEN)
    /// and adds its own once they are gone.
    @Test func addWaitsForExpiringElementsUnderItsKeys() throws {
        let setup = Setup()
        let config = try Fixtures.config()
        let old = Fixtures.request(config, id: "old")
        _ = try setup.backend.add(old)
        _ = try setup.backend.delete(old)
        #expect(setup.kernel.expiring.values.reduce(0) { $0 + $1.count } == Fixtures.planned(old).values.reduce(0) { $0 + $1.count })
        let before = setup.kernel.requests.count
        let new = Fixtures.request(config, id: "new", [.ipv4: IPNetwork("10.89.0.8/24")!])
        _ = try setup.backend.add(new)
        #expect(setup.kernel.requests.dropFirst(before).filter { $0 == 16 }.count == 2)
        #expect(setup.kernel.tables[.ipv4].map(Set.init) == Set(Fixtures.planned(new)[.ipv4]!))
    }

    /// ERESTART twice: the read and the batch are done again each time, the last batch naming the
    /// generation read last.
    @Test func changedGenerationIsReadAndPlannedAgain() throws {
        let setup = Setup()
        setup.kernel.batchAnswers = [.restart, .restart]
        _ = try setup.backend.add(Fixtures.request(try Fixtures.config()))
        #expect(setup.kernel.batches.count == 3)
        #expect(setup.kernel.requests.filter { $0 == 16 }.count == 3)
        #expect(NetlinkBytes(setup.kernel.batches[2][0]).attribute(1) == NetlinkBytes.littleEndian(UInt32(43).bigEndian))
        #expect(setup.kernel.tables.count == 2)
    }

    /// Another writer committing all the time: batches are redone for CommitRetry's 2 s, then
    /// the verb is busy (code 11) with nothing applied.
    @Test func generationThatKeepsChangingIsBusyAfterTheRetryBudget() throws {
        let setup = Setup()
        setup.kernel.batchAnswers = Array(repeating: .restart, count: 100_000)
        #expect {
            try setup.backend.add(Fixtures.request(try Fixtures.config()))
        } throws: { error in
            (error as? BackendError)?.kind == .busy && (error as? BackendError)?.message.contains("in 2000 ms") == true
        }
        #expect(setup.kernel.batches.count > 5, "redone for the time budget, not a fixed count")
        #expect(setup.kernel.batches.count < 100_000)
        #expect(setup.kernel.tables.isEmpty)
    }

    /// A refusal names the command of the refused message and its reason; nothing is applied.
    @Test func refusedBatchNamesTheMessageAndChangesNothing() throws {
        let setup = Setup()
        setup.kernel.batchAnswers = [.refuse(index: 3, errno: EOPNOTSUPP)]
        #expect(
            throws: BackendError(
                .kernel, "nftables refused add chain ip cni_portmaps output: Operation not supported; nothing was changed",
                details: "add chain ip cni_portmaps output: Operation not supported")
        ) {
            try setup.backend.add(Fixtures.request(try Fixtures.config(), [.ipv4: Fixtures.v4]))
        }
        #expect(setup.kernel.tables.isEmpty)
    }

    /// A key another container owns is refused before anything is sent, naming port and owner.
    @Test func conflictIsRefusedWithoutABatch() throws {
        let other = Fixtures.request(try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#), id: "other", [.ipv4: IPNetwork("10.89.0.9/24")!])
        let setup = Setup(Fixtures.planned(other))
        let before = setup.kernel.tables
        #expect {
            try setup.backend.add(Fixtures.request(try Fixtures.config()))
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.kind == .invalidConfig
                && error.message == "tcp port 8080 on every IPv4 address is already mapped by hostport-dual/other; the nftables backend maps a port to one container only"
        }
        #expect(setup.kernel.batches.isEmpty)
        #expect(setup.kernel.tables == before)
    }

    @Test func deleteRemovesTheContainersElementsInBothFamiliesOnly() throws {
        let mine = Fixtures.request(try Fixtures.config())
        let other = Fixtures.request(
            try Fixtures.config(#"{"hostPort": 7070, "containerPort": 70}"#), id: "other",
            [.ipv4: IPNetwork("10.89.0.9/24")!, .ipv6: IPNetwork("2001:db8:89::9/64")!])
        let setup = Setup()
        _ = try setup.backend.add(mine)
        _ = try setup.backend.add(other)
        _ = try setup.backend.delete(Fixtures.request(try Fixtures.config(), [:]))
        #expect(setup.kernel.tables == Fixtures.planned(other))
        _ = try setup.backend.delete(Fixtures.request(try Fixtures.config(), [:]))
        #expect(setup.kernel.batches.count == 3)
    }

    @Test func deleteWithoutTablesSendsNothingAndCreatesNothing() throws {
        let setup = Setup()
        _ = try setup.backend.delete(Fixtures.request(try Fixtures.config()))
        #expect(setup.kernel.batches.isEmpty)
        #expect(setup.kernel.requests == [16, 1, 1, 1, 1])
        #expect(setup.kernel.tables.isEmpty)
    }

    @Test func gcRemovesTheUnlistedContainersOfTheNetwork() throws {
        let setup = Setup()
        let config = try Fixtures.config(#"{"hostPort": 8080, "containerPort": 80}"#)
        let others = try Fixtures.config(#"{"hostPort": 9000, "containerPort": 80}"#, network: "others")
        _ = try setup.backend.add(Fixtures.request(config, id: "kept", [.ipv4: IPNetwork("10.89.0.5/24")!]))
        _ = try setup.backend.add(
            Fixtures.request(
                try Fixtures.config(#"{"hostPort": 8081, "containerPort": 80}"#), id: "gone",
                [.ipv4: IPNetwork("10.89.0.6/24")!, .ipv6: IPNetwork("2001:db8:89::6/64")!]))
        _ = try setup.backend.add(Fixtures.request(others, id: "gone", [.ipv4: IPNetwork("10.89.0.7/24")!]))
        _ = try setup.backend.gc(network: Fixtures.network, validAttachments: [GCAttachment(containerID: "kept", ifName: "eth0")])
        #expect(Set(setup.kernel.tables[.ipv4]!.map(\.owner)) == ["hostport-dual/kept", "others/gone"])
        #expect(setup.kernel.tables[.ipv6] == [])
        #expect(setup.kernel.batches.count == 4)
    }

    /// STATUS sends no batch and creates nothing: on a node without the tables it reads the
    /// generation and asks for each table; where a table exists it reads its sets' types.
    @Test func statusReadsAndSendsNoBatch() throws {
        let empty = Setup()
        try empty.backend.status(try Fixtures.config())
        #expect(empty.kernel.batches.isEmpty)
        #expect(empty.kernel.requests == [16, 1, 1])
        #expect(empty.kernel.tables.isEmpty)
        let busy = Setup(Fixtures.planned(Fixtures.request(try Fixtures.config())))
        let before = busy.kernel.tables
        try busy.backend.status(try Fixtures.config())
        #expect(busy.kernel.batches.isEmpty)
        #expect(busy.kernel.requests == [16, 1, 10, 1, 10])
        #expect(busy.kernel.tables == before)
    }

    /// ADD, DEL and GC remove the plugin's old elements from the previous table, whose name
    /// upstream's table has: the container's own (ADD, DEL), the network's unlisted ones (GC),
    /// in the verb's one batch; others stay, and the previous table is never created.
    @Test func previousTableLosesTheTouchedContainersElements() throws {
        let config = try Fixtures.config()
        let mine = Fixtures.request(config)
        let other = Fixtures.request(try Fixtures.config(#"{"hostPort": 7070, "containerPort": 70}"#), id: "other", [.ipv4: IPNetwork("10.89.0.9/24")!])
        let old = Fixtures.planned(other).merging(Fixtures.planned(mine)) { $0 + $1 }
        let left: [IPFamily: Set<NFTablesElement>] = [.ipv4: Set(Fixtures.planned(other)[.ipv4]!), .ipv6: []]
        let setup = Setup()
        setup.kernel.previous = old
        _ = try setup.backend.add(mine)
        #expect(setup.kernel.previous.mapValues(Set.init) == left)
        #expect(setup.kernel.batches.count == 1)
        setup.kernel.previous = old
        _ = try setup.backend.delete(mine)
        #expect(setup.kernel.previous.mapValues(Set.init) == left)
        let ours = setup.kernel.tables.values.reduce(0) { $0 + $1.count }
        #expect(ours == 0)
        setup.kernel.previous = old
        _ = try setup.backend.gc(network: Fixtures.network, validAttachments: [GCAttachment(containerID: "other", ifName: "eth0")])
        #expect(setup.kernel.previous.mapValues(Set.init) == left)
        let without = Setup()
        _ = try without.backend.delete(mine)
        #expect(without.kernel.previous.isEmpty)
    }

    @Test func checkNamesWhatIsMissing() throws {
        let setup = Setup()
        let request = Fixtures.request(try Fixtures.config())
        #expect(
            throws: BackendError(
                .checkFailed, "table ip cni_portmaps does not exist",
                details: "table ip cni_portmaps does not exist; table ip6 cni_portmaps does not exist")
        ) {
            try setup.backend.check(request)
        }
        _ = try setup.backend.add(request)
        setup.kernel.tables[.ipv6]!.removeAll { $0.key == .port(.udp, 5353) }
        #expect {
            try setup.backend.check(request)
        } throws: { error in
            (error as? BackendError)?.message
                == #"element ip6 cni_portmaps hostport_dnat { udp . 5353 comment "hostport-dual/3e1fdcd8a5e9" : 2001:db8:89::5 . 53 } is missing"#
        }
    }

    /// The lock held by someone else: ADD, DEL and GC wait for it and give up busy. STATUS, which
    /// containerd polls, neither waits nor fails: it reads at once.
    @Test func heldLockIsBusy() throws {
        let setup = Setup()
        let holder = open(setup.lock.path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o600)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        for verb: () throws -> Void in [
            { _ = try setup.backend.add(Fixtures.request(try Fixtures.config())) },
            { _ = try setup.backend.delete(Fixtures.request(try Fixtures.config())) },
            { _ = try setup.backend.gc(network: Fixtures.network, validAttachments: []) },
        ] {
            #expect { try verb() } throws: { ($0 as? BackendError)?.kind == .busy }
        }
        #expect(setup.kernel.sent.isEmpty)
        try setup.backend.status(try Fixtures.config())
        #expect(setup.kernel.requests == [16, 1, 1])
    }
}
