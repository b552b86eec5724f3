/// JSON text in the form Go's encoding/json writes it (`MarshalIndent(v, "", "    ")` when
/// indented), so results printed by this plugin read like those of the Go plugins beside it.
extension JSONValue {
    /// `indent` spaces per level, or compact when nil. No trailing newline.
    public func serialized(indent: Int? = 4) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output, indent: indent, level: 0)
        return String(decoding: output, as: UTF8.self)
    }

    private func write(into output: inout [UInt8], indent: Int?, level: Int) {
        switch self {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let number): output += Array(number.literal.utf8)
        case .string(let text): Self.writeString(text, into: &output)
        case .array(let elements):
            writeContainer(open: "[", close: "]", count: elements.count, into: &output, indent: indent, level: level) { index, output in
                elements[index].write(into: &output, indent: indent, level: level + 1)
            }
        case .object(let object):
            writeContainer(open: "{", close: "}", count: object.members.count, into: &output, indent: indent, level: level) { index, output in
                Self.writeString(object.members[index].key, into: &output)
                output.append(UInt8(ascii: ":"))
                if indent != nil { output.append(UInt8(ascii: " ")) }
                object.members[index].value.write(into: &output, indent: indent, level: level + 1)
            }
        }
    }

    private func writeContainer(
        open: Unicode.Scalar, close: Unicode.Scalar, count: Int, into output: inout [UInt8],
        indent: Int?, level: Int, element: (Int, inout [UInt8]) -> Void
    ) {
        output.append(UInt8(ascii: open))
        guard count > 0 else {
            output.append(UInt8(ascii: close))
            return
        }
        for index in 0..<count {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            if let indent {
                output.append(0x0A)
                output += [UInt8](repeating: 0x20, count: indent * (level + 1))
            }
            element(index, &output)
        }
        if let indent {
            output.append(0x0A)
            output += [UInt8](repeating: 0x20, count: indent * level)
        }
        output.append(UInt8(ascii: close))
    }

    /// Escapes as Go does: `"` `\` and control characters, plus `<`, `>`, `&`, U+2028 and U+2029
    /// (Go's HTML-safe default), so the same string prints the same bytes.
    private static func writeString(_ text: String, into output: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += [0x5C, 0x22]
            case "\\": output += [0x5C, 0x5C]
            case "\n": output += [0x5C, UInt8(ascii: "n")]
            case "\r": output += [0x5C, UInt8(ascii: "r")]
            case "\t": output += [0x5C, UInt8(ascii: "t")]
            case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{00}"..."\u{1F}":
                let value = scalar.value
                output += Array("\\u".utf8) + [hex[Int(value >> 12 & 0xF)], hex[Int(value >> 8 & 0xF)], hex[Int(value >> 4 & 0xF)], hex[Int(value & 0xF)]]
            default:
                output += Array(String(scalar).utf8)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
