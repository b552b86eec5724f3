// The libFuzzer target over the pure core, built by scripts/fuzz.sh with
// `swiftc -sanitize=fuzzer,address -parse-as-library` together with Sources/PortmapCore/**, as one
// module (so no `import PortmapCore`). Not a SwiftPM target: Package.swift does not declare
// Tests/Fuzz, so `swift build` never sees it.
//
// Each input is stdin as a runtime would send it or, after a "#", the choices from which
// `ConfigGenerator` writes one. It goes through the JSON parser (whose output must survive a
// serialize/parse round trip) and then through ADD, CHECK, GC, STATUS and DEL of
// `PortmapPlugin.run` with a backend that plans and renders the rules but keeps them in memory, so
// config and prevResult decoding, the planner and the `iptables-save` rendering all see hostile
// input. Any broken invariant is a `fatalError`, which libFuzzer reports as a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPortmap(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    // "#" and then bytes that choose a config's parts (ConfigGenerator); anything else is stdin as is.
    let stdin = input.first == UInt8(ascii: "#") ? ConfigGenerator.stdin(from: input.dropFirst()) : input
    FuzzChecks.jsonRoundTrip(stdin)
    FuzzChecks.verbs(stdin)
    return 0
}

enum FuzzChecks {
    /// What the parser accepts is valid UTF-8, and serializing it (compact or indented) and parsing
    /// that again gives the same value: a prevResult is passed on unchanged.
    static func jsonRoundTrip(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            fatalError("the parser accepted invalid UTF-8")
        }
        for indent in [nil, 4] as [Int?] {
            let text = value.serialized(indent: indent)
            guard let again = try? JSONParser.parse(Array(text.utf8)) else {
                fatalError("serialized JSON does not parse: \(text)")
            }
            guard again == value else { fatalError("serialize/parse round trip changed the value: \(text)") }
        }
    }

    static let environment = [
        "CNI_CONTAINERID": "fuzz-ctr", "CNI_NETNS": "/var/run/netns/fuzz", "CNI_IFNAME": "eth0",
        "CNI_PATH": "/opt/cni/bin",
    ]

    /// ADD, CHECK, GC, STATUS and DEL against one recording backend. Every answer is a result or
    /// a CNI error object; a successful ADD's rules pass CHECK; GC keeps the container's rules
    /// exactly when it is listed as valid; DEL leaves nothing behind.
    static func verbs(_ bytes: [UInt8]) {
        let backend = RecordingBackend()
        let plugin = PortmapPlugin(backend: backend, hostNetwork: RecordingHostNetwork(), about: "fuzz")
        var added = false
        for command in ["ADD", "CHECK", "GC", "STATUS", "DEL"] {
            var environment = Self.environment
            environment["CNI_COMMAND"] = command
            let before = backend.tables
            let output = plugin.run(environment: environment, stdin: .bytes(bytes))
            switch output.exitCode {
            case 0:
                if command == "ADD" {
                    added = true
                    guard case .object(let result)? = try? JSONParser.parse(Array(output.stdout.utf8)),
                        case .string? = result["cniVersion"]
                    else {
                        fatalError("ADD succeeded without a result object: \(output.stdout)")
                    }
                }
                if command == "GC", let config = try? PortmapPlugin.decode(bytes) {
                    // A chain no entry rule jumps to (a `-p` condition left out all its
                    // protocols) cannot be tied to the network, so GC leaves it.
                    let kept = config.validAttachments?.contains { $0.containerID == Self.environment["CNI_CONTAINERID"] } ?? false
                    let expected = kept ? before : before.filter { backend.chains[$0.key]?.entryRules.isEmpty == true }
                    guard backend.tables == expected else {
                        fatalError("GC \(kept ? "removed a valid" : "kept a stale") container's rules: \(before) → \(backend.tables)")
                    }
                }
            case 1:
                guard case .object(let error)? = try? JSONParser.parse(Array(output.stdout.utf8)),
                    case .number(let code)? = error["code"], code.int64 != nil,
                    case .string(let message)? = error["msg"], !message.isEmpty
                else {
                    fatalError("\(command) failed without a CNI error object: \(output.stdout)")
                }
                // CHECK after a successful ADD may only fail for a version that has no CHECK.
                if command == "CHECK" && added && code.int64 != Int64(CNIError.Code.incompatibleCNIVersion.rawValue) {
                    fatalError("CHECK failed right after ADD: \(output.stdout)")
                }
                guard backend.tables == before else { fatalError("a failed \(command) changed the rules") }
            default:
                fatalError("\(command) exited \(output.exitCode)")
            }
            if command == "DEL" && output.exitCode == 0 && !backend.tables.isEmpty {
                fatalError("DEL left rules behind: \(backend.tables)")
            }
        }
    }
}

/// The kernel as a dictionary: ADD plans and renders each family's rules as the iptables backend
/// would before committing, CHECK compares a fresh plan with them, DEL and GC remove what the
/// planner says they remove.
final class RecordingBackend: PortMapBackend {
    /// "<chain> <family>" of each container's own chain → the save lines of its plan.
    var tables: [String: [String]] = [:]
    /// The same keys → the container's chain, whose entry rules GC reads.
    var chains: [String: IPTablesChain] = [:]

    func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        for (family, plan) in Self.plans(request) {
            guard let chain = plan.containerChain else { fatalError("a plan without the container's chain") }
            let key = "\(chain.name) \(family)"
            tables[key] = Self.saveLines(plan)
            chains[key] = chain
        }
        return []
    }

    func check(_ request: PortMapRequest) throws(BackendError) {
        for (family, plan) in Self.plans(request) {
            let key = "\(plan.containerChain?.name ?? "none") \(family)"
            guard tables[key] == Self.saveLines(plan) else { throw BackendError(.checkFailed, "rules of \(key) differ") }
        }
    }

    func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
        remove(IPTablesPlanner.teardown(network: request.config.name, containerID: request.containerID), family: nil)
        return []
    }

    func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
        for family in IPFamily.allCases {
            let entries = chains.filter { $0.key.hasSuffix(" \(family)") }.values.flatMap(\.entryRules)
            let garbage = IPTablesPlanner.garbage(network: network, keeping: validAttachments.map(\.containerID), entryRules: entries)
            remove(garbage, family: family)
        }
        return []
    }

    func status(_ config: PortMapConfig) throws(BackendError) {}

    private func remove(_ teardown: IPTablesTeardown, family: IPFamily?) {
        for item in teardown.items {
            for each in family.map({ [$0] }) ?? IPFamily.allCases {
                tables["\(item.chain) \(each)"] = nil
                chains["\(item.chain) \(each)"] = nil
            }
        }
    }

    private static func plans(_ request: PortMapRequest) -> [(IPFamily, IPTablesFamilyPlan)] {
        request.containerAddresses.sorted { $0.key < $1.key }.map { family, address in
            (family, IPTablesPlanner.plan(request.config, containerID: request.containerID, container: address))
        }
    }

    private static func saveLines(_ plan: IPTablesFamilyPlan) -> [String] {
        (plan.chains + plan.rawChains).flatMap { chain in
            chain.rules.map { $0.saveLine(chain: chain.name) }
                + chain.entryChains.flatMap { entry in chain.entryRules.map { $0.saveLine(chain: entry) } }
        }
    }
}

/// Conntrack and route_localnet answered without touching the node.
struct RecordingHostNetwork: HostNetwork {
    func flushUDPConntrack(family: IPFamily, destinations: [ConntrackDestination]) throws(HostNetworkError) -> Int {
        destinations.count
    }

    func enableLocalnetRouting(toward container: IPAddress) throws(HostNetworkError) -> String? {
        "fuzz0"
    }
}
