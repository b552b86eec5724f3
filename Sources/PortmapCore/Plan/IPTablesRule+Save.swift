/// `iptables-save` syntax for rules, as iptables-legacy 1.8.9 prints them: the form operators
/// compare with, the unit tests' golden text, and what diagnostics show.
extension IPTablesRule {
    /// The rule as an `-A <chain> ...` line of `iptables-save` / `ip6tables-save`.
    public func saveLine(chain: String) -> String {
        var parts = ["-A", chain]
        func header(_ flag: String, _ value: Inverted<String>?) {
            guard let value else { return }
            if value.isInverted { parts.append("!") }
            parts += [flag, value.value]
        }
        header("-s", source.map { Inverted($0.value.description, $0.isInverted) })
        header("-d", destination.map { Inverted($0.value.description, $0.isInverted) })
        header("-i", inInterface)
        header("-o", outInterface)
        header("-p", protocolNumber.map { Inverted(Self.protocolName($0.value), $0.isInverted) })
        for match in matches {
            parts.append(match.saveText)
        }
        parts.append(target.saveText)
        return parts.joined(separator: " ")
    }

    static func protocolName(_ number: UInt16) -> String {
        TransportProtocol(number: number)?.rawValue ?? String(number)
    }
}

extension IPTablesMatch {
    var saveText: String {
        switch self {
        case .destinationTypeLocal:
            return "-m addrtype --dst-type LOCAL"
        case .comment(let text):
            return "-m comment --comment " + Self.quoted(text)
        case .multiportDestination(let ports):
            return "-m multiport --dports " + ports.map(String.init).joined(separator: ",")
        case .destinationPort(let transport, let port):
            return "-m \(transport.rawValue) --dport \(port)"
        case .mark(let value, let mask):
            return "-m mark --mark " + markText(value: value, mask: mask)
        case .other(let name, let revision, _):
            return "-m \(name) (revision \(revision), not decoded)"
        }
    }

    /// xtables_save_string: bare when only `[A-Za-z0-9_-]`, else double-quoted with `"`, `\` and `'`
    /// backslash-escaped.
    static func quoted(_ text: String) -> String {
        let bare =
            !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        if bare { return text }
        var escaped = ""
        for character in text.unicodeScalars {
            if character == "\"" || character == "\\" || character == "'" { escaped.append("\\") }
            escaped.unicodeScalars.append(character)
        }
        return "\"" + escaped + "\""
    }
}

extension IPTablesTarget {
    var saveText: String {
        switch self {
        case .jump(let chain):
            return "-j " + chain
        case .verdict(let verdict):
            return "-j " + verdict
        case .dnat(let address, let port):
            let host = address.family == .ipv4 ? address.description : "[\(address)]"
            return "-j DNAT --to-destination \(host):\(port)"
        case .setMark(let value, let mask):
            return "-j MARK --set-xmark " + markText(value: value, mask: mask)
        case .masquerade:
            return "-j MASQUERADE"
        case .other(let name, let revision, _):
            return "-j \(name) (revision \(revision), not decoded)"
        }
    }
}

/// `0x2000/0x2000`; the mask is left out when it is all ones, as the mark extensions print it.
private func markText(value: UInt32, mask: UInt32) -> String {
    let valueText = "0x" + String(value, radix: 16)
    return mask == UInt32.max ? valueText : valueText + "/0x" + String(mask, radix: 16)
}
