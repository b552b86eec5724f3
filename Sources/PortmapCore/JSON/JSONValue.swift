/// A JSON document as parsed: numbers keep their literal text and objects keep their members in
/// document order, so a prevResult is passed on exactly as received (unknown fields included).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A number kept as its literal text so that nothing is lost (64-bit overflow, 1.0 vs 1).
public struct JSONNumber: Sendable, Equatable {
    public let literal: String

    init(literal: String) {
        self.literal = literal
    }

    public init(_ int: Int) {
        literal = String(int)
    }

    /// The exact value of an integer literal that fits in 64 bits; nil for fractions, exponents and
    /// integers beyond Int64.
    public var int64: Int64? {
        isInteger ? Int64(literal) : nil
    }

    /// Whether the literal is written as an integer (no '.', 'e' or 'E').
    public var isInteger: Bool {
        !literal.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}

/// Object members in document order. Lookup returns the last member with a key, as Go's
/// encoding/json does, so a config means to us what it means to the Go plugins beside us.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    public var keys: [String] { members.map(\.key) }

    /// Setting replaces the value in place (duplicates collapse to the first position) or appends;
    /// setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { members.last { $0.key == key }?.value }
        set { set(key, newValue, replacing: { $0 == key }) }
    }

    /// Writes `value` under `key` where the first member whose key `replacing` accepts was (or at
    /// the end), and drops every other such member; nil drops them all.
    mutating func set(_ key: String, _ value: JSONValue?, replacing: (String) -> Bool) {
        var kept: [(key: String, value: JSONValue)] = []
        var placed = false
        for member in members {
            guard replacing(member.key) else {
                kept.append(member)
                continue
            }
            if !placed, let value { kept.append((key, value)) }
            placed = true
        }
        if !placed, let value { kept.append((key, value)) }
        members = kept
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
