import Testing

@testable import PortmapCore

/// The bounds that keep hostile stdin cheap: nesting depth, the number of mappings, the size of
/// the values an error message quotes.
struct InputLimitTests {
    static func config(mappings: Int, firstPort: Int = 1) -> String {
        let list = (0..<mappings).map { #"{"hostPort": \#(firstPort + $0), "containerPort": 80}"# }
        return #"{"cniVersion": "1.0.0", "name": "net1", "runtimeConfig": {"portMappings": [\#(list.joined(separator: ","))]}}"#
    }

    @Test func nestingUpToTheLimitParses() throws {
        let depth = JSONParser.defaultMaxDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSONParser.parse(Array(text.utf8)) != .null)
    }

    /// One level deeper is refused where it starts; 10^5 levels are refused the same way, long
    /// before the recursion could reach the end of the stack.
    @Test(arguments: [JSONParser.defaultMaxDepth + 1, 100_000])
    func nestingBeyondTheLimitIsRefused(depth: Int) {
        let bytes = Array(String(repeating: "[", count: depth).utf8)
        #expect(throws: JSONSyntaxError(offset: JSONParser.defaultMaxDepth, reason: "nesting deeper than \(JSONParser.defaultMaxDepth)")) {
            try JSONParser.parse(bytes)
        }
    }

    @Test func objectsAndArraysCountAlike() {
        #expect(throws: JSONSyntaxError(offset: 6, reason: "nesting deeper than 2")) {
            try JSONParser.parse(Array(#"{"a":[{}]}"#.utf8), maxDepth: 2)
        }
    }

    @Test func deepNestingInAConfigIsADecodingError() {
        let text = #"{"cniVersion": "1.0.0", "name": "net1", "x": "# + String(repeating: "[", count: 100_000)
        #expect {
            _ = try decodeConfig(text)
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            return error.code == .decodingFailure && error.details.contains("nesting deeper than 64")
        }
    }

    @Test func theMaximumNumberOfMappingsIsAccepted() throws {
        let config = try decodeConfig(Self.config(mappings: PortMapConfig.maxPortMappings))
        #expect(config.portMappings.count == 1024)
    }

    /// Counted before any mapping is decoded, so 10^5 of them cost one array parse.
    @Test(arguments: [PortMapConfig.maxPortMappings + 1, 100_000])
    func moreMappingsThanTheLimitAreRefused(count: Int) {
        #expect {
            _ = try decodeConfig(Self.config(mappings: count, firstPort: 1))
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            return error.code == .invalidNetworkConfig
                && error.msg == "runtimeConfig.portMappings: \(count) mappings; at most 1024 are accepted"
        }
    }

    /// A rejected value is quoted whole up to 64 characters, then cut, however long it is and
    /// whatever it is made of (combining marks would make one enormous Character).
    @Test(arguments: [
        ("!", 1_000_000),
        ("\u{301}", 100_000),
        ("é", 65),
    ])
    func errorMessagesQuoteAnExcerptOfLongValues(unit: String, count: Int) {
        let name = "x" + String(repeating: unit, count: count)
        #expect {
            _ = try decodeConfig(#"{"cniVersion": "1.0.0", "name": "\#(name)"}"#)
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            let excerpt = String(name.unicodeScalars.prefix(64)) + "…"
            return error.code == .invalidNetworkConfig && error.msg == "name: \"\(excerpt)\" has invalid characters (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*)"
        }
    }

    @Test(arguments: ["bad name", String(repeating: "é", count: 64)])
    func shortValuesAreQuotedWhole(value: String) {
        #expect(value.messageExcerpt == value)
    }

    @Test func outOfRangeNumbersAreQuotedAsAnExcerpt() {
        let digits = String(repeating: "9", count: 100_000)
        #expect {
            _ = try decodeConfig(#"{"cniVersion": "1.0.0", "name": "n", "runtimeConfig": {"portMappings": [{"hostPort": \#(digits), "containerPort": 80}]}}"#)
        } throws: { error in
            guard let error = error as? CNIError else { return false }
            return error.code == .invalidNetworkConfig
                && error.msg == "runtimeConfig.portMappings[0].hostPort: \(digits.prefix(64))… is out of range"
        }
    }
}
