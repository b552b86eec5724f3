import PortmapCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A backend that keeps each container's planned rules, rendered as `iptables-save` lines, in a
/// JSON state file instead of the kernel. It runs the same planner as the iptables backend, so the
/// binary tests see real plans, and its CHECK reports missing rules the same way.
///
/// `PORTMAP_FAKE_FAIL=busy|kernel` makes every verb fail that way, to test the binary's mapping of
/// backend failures to CNI codes 11 and 100 (and 50 for STATUS).
public struct FakeBackend: PortMapBackend {
    let statePath: String
    let failure: BackendError?

    public init(statePath: String, failure: String? = nil) {
        self.statePath = statePath
        switch failure {
        case "busy": self.failure = BackendError(.busy, "fake backend: lock held")
        case "kernel": self.failure = BackendError(.kernel, "fake backend: kernel refused the commit")
        default: self.failure = nil
        }
    }

    public func add(_ request: PortMapRequest) throws(BackendError) -> [String] {
        if let failure { throw failure }
        var state = load()
        state[key(request)] = .object(
            JSONObject(
                Self.lines(request).map { family, lines in
                    (family.rawValue, JSONValue.array(lines.map { .string($0) }))
                }))
        save(state)
        return []
    }

    public func check(_ request: PortMapRequest) throws(BackendError) {
        if let failure { throw failure }
        let stored = load()[key(request)]
        var missing: [String] = []
        for (family, lines) in Self.lines(request) {
            var present: [JSONValue] = []
            if case .object(let families)? = stored, case .array(let values)? = families[family.rawValue] { present = values }
            missing += lines.filter { !present.contains(.string($0)) }
        }
        guard let first = missing.first else { return }
        throw BackendError(.checkFailed, "rule missing: \(first)", details: missing.joined(separator: "; "))
    }

    public func delete(_ request: PortMapRequest) throws(BackendError) -> [String] {
        if let failure { throw failure }
        var state = load()
        state[key(request)] = nil
        save(state)
        return []
    }

    /// Drops every container of `network` that is not listed; other networks' stay.
    public func gc(network: String, validAttachments: [GCAttachment]) throws(BackendError) -> [String] {
        if let failure { throw failure }
        let kept = Set(validAttachments.map { key(network: network, containerID: $0.containerID) })
        var state = load()
        let stale = state.keys.filter { $0.hasPrefix("\(network)/") && !kept.contains($0) }
        guard !stale.isEmpty else { return [] }
        for key in stale { state[key] = nil }
        save(state)
        return []
    }

    /// Ready unless `PORTMAP_FAKE_FAIL` says otherwise.
    public func status(_ config: PortMapConfig) throws(BackendError) {
        if let failure { throw failure }
    }

    private func key(_ request: PortMapRequest) -> String { key(network: request.config.name, containerID: request.containerID) }

    /// Network names cannot hold "/", so "<network>/" prefixes exactly that network's containers.
    private func key(network: String, containerID: String) -> String { "\(network)/\(containerID)" }

    /// Every rule of the plan in each family the container has, as save lines.
    static func lines(_ request: PortMapRequest) -> [(IPFamily, [String])] {
        request.containerAddresses.sorted { $0.key < $1.key }.map { family, address in
            let plan = IPTablesPlanner.plan(request.config, containerID: request.containerID, container: address)
            let lines = plan.chains.flatMap { chain in
                chain.rules.map { $0.saveLine(chain: chain.name) }
                    + chain.entryChains.flatMap { entry in chain.entryRules.map { $0.saveLine(chain: entry) } }
            }
            return (family, lines)
        }
    }

    private func load() -> JSONObject {
        guard let file = fopen(statePath, "r") else { return JSONObject() }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        guard case .object(let object)? = try? JSONParser.parse(bytes) else { return JSONObject() }
        return object
    }

    private func save(_ state: JSONObject) {
        guard let file = fopen(statePath, "w") else { return }
        defer { fclose(file) }
        let text = Array(JSONValue.object(state).serialized().utf8)
        _ = fwrite(text, 1, text.count, file)
    }
}
