import PortmapCore
import Snapshots

/// Reads `iptables-save` lines into a nat-table snapshot, decoding the options the interpreters
/// look at the way the kernel read path decodes them; any other option becomes an `.other`
/// match, as an extension the reader does not know does. The root tests load the same layouts
/// (Tests/IntegrationTests/Fixtures/forwarders) into real kernels.
enum SaveFile {
    /// Every `*nat` chain (`:NAME`) and its `-A` rules, built-in chains first as the kernel lists them.
    static func natTable(parsing text: String, family: IPFamily, store: RuleStore = .iptablesLegacy) -> NatTableSnapshot {
        var chains = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"].map { NatTableSnapshot.Chain(name: $0, rules: []) }
        func index(_ name: String) -> Int {
            if let found = chains.firstIndex(where: { $0.name == name }) { return found }
            chains.append(.init(name: name, rules: []))
            return chains.count - 1
        }
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix(":") {
                _ = index(String(line.dropFirst().prefix { $0 != " " }))
            } else if line.hasPrefix("-A ") {
                var words = tokens(line)
                words.removeFirst()
                let chain = words.removeFirst()
                chains[index(chain)].rules.append(rule(words))
            }
        }
        return NatTableSnapshot(family: family, store: store, exists: true, chains: chains)
    }

    /// Shell-like words: double or single quotes group.
    static func tokens(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    static func rule(_ words: [String]) -> IPTablesRule {
        var rule = IPTablesRule(target: .other(name: "(no target)", revision: 0, data: []))
        var index = 0
        var inverted = false
        func next() -> String {
            index += 1
            return index < words.count ? words[index] : ""
        }
        func network(_ text: String) -> IPNetwork {
            if let network = IPNetwork(text) { return network }
            let address = IPAddress(text)!
            return IPNetwork(address: address, prefixLength: address.family.addressBits)!
        }
        var ports: [UInt16]?
        while index < words.count {
            let word = words[index]
            switch word {
            case "!": inverted = true
            case "-s": rule.source = Inverted(network(next()), inverted)
            case "-d": rule.destination = Inverted(network(next()), inverted)
            case "-i": rule.inInterface = Inverted(next(), inverted)
            case "-o": rule.outInterface = Inverted(next(), inverted)
            case "-p": rule.protocolNumber = Inverted(["tcp": 6, "udp": 17, "sctp": 132][next()]!, inverted)
            case "-m": if ["tcp", "udp", "sctp", "multiport"].contains(next()) { break }
            case "--dport", "--destination-port": ports = [UInt16(next())!]
            case "--dports", "--destination-ports": ports = next().split(separator: ",").map { UInt16($0)! }
            case "--comment": rule.matches.append(.comment(next()))
            case "--dst-type": rule.matches.append(next() == "LOCAL" ? .destinationTypeLocal : .other(name: "addrtype", revision: 1, data: []))
            case "-j": rule.target = target(next(), words)
            default:
                // An option this reader does not interpret, with its argument.
                if index + 1 < words.count, !words[index + 1].hasPrefix("-") { index += 1 }
                rule.matches.append(.other(name: word, revision: 0, data: []))
            }
            if word != "!" { inverted = false }
            index += 1
        }
        if let ports {
            if ports.count == 1, let number = rule.protocolNumber?.value, let transport = TransportProtocol(number: number) {
                rule.matches.insert(.destinationPort(transport, ports[0]), at: 0)
            } else {
                rule.matches.insert(.multiportDestination(ports), at: 0)
            }
        }
        return rule
    }

    /// `-j` and the target, whose own options (`--to-destination`) may come anywhere after it.
    static func target(_ name: String, _ words: [String]) -> IPTablesTarget {
        switch name {
        case "ACCEPT", "DROP", "RETURN": return .verdict(name)
        case "MASQUERADE": return .masquerade
        case "DNAT":
            guard let at = words.firstIndex(of: "--to-destination") else { return .other(name: name, revision: 2, data: []) }
            var text = words[at + 1]
            let port = UInt16(text.split(separator: ":").last!)!
            text = String(text.dropLast(String(port).count + 1))
            let address = IPAddress(text.hasPrefix("[") ? String(text.dropFirst().dropLast()) : text)!
            return .dnat(address, port: port)
        case "MARK", "SNAT", "REDIRECT":
            return .other(name: name, revision: 0, data: [])
        default: return .jump(name)
        }
    }
}
