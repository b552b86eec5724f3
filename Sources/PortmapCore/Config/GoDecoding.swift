/// How Go's encoding/json reads a value into what an earlier key of the same field left there:
/// the Go plugin decodes stdin into a struct, so a field spelled twice (`"runtimeConfig"` and
/// `"RuntimeConfig"`, or the same key repeated) is decoded into the same value again, not
/// replaced. Objects merge field by field, arrays are decoded element by element into the earlier
/// elements (and take the new length), a map (prevResult) gains and replaces keys, and `null`
/// clears a pointer, slice or map but leaves a string, number or boolean as it was.
///
/// `merged` turns a decoded object into one member per field of `shape`, holding what Go would
/// hold, so the typed decoding after it sees Go's value. A value of the wrong kind stays once seen
/// (Go fails the whole decoding then, after reading on), so the typed decoding reports it.
/// Not modelled: Go decodes a longer array into the unused capacity of an earlier, shorter one's
/// backing store (a third spelling that is longer than the second one can pick up elements of the
/// first); here such elements start empty.
enum GoDecoding {
    indirect enum Shape: Sendable {
        case string, integer, bool
        /// `*T`: null clears it; anything else decodes into the pointee.
        case pointer(Shape)
        /// `[]T`
        case slice(Shape)
        /// A struct: its fields by JSON name, matched as `GoFieldName` does; other keys are ignored.
        case structure([(String, Shape)])
        /// `map[string]interface{}`: keys matched exactly, each value replaced.
        case map
    }

    /// `object` as Go holds it after decoding it into a struct of `fields`.
    static func merged(_ object: JSONObject, fields: [(String, Shape)]) -> JSONObject {
        guard case .object(let result)? = decode(.object(object), into: nil, as: .structure(fields)) else { return object }
        return result
    }

    /// The value after decoding `value` into `existing` (nil: never set).
    static func decode(_ value: JSONValue, into existing: JSONValue?, as shape: Shape) -> JSONValue? {
        if let existing, existing != .null, !fits(existing, shape) { return existing }
        switch shape {
        case .string, .integer, .bool:
            return value == .null ? existing : value
        case .pointer(let pointee):
            return value == .null ? .null : decode(value, into: existing, as: pointee)
        case .slice(let element):
            guard case .array(let elements) = value else { return value == .null ? .null : value }
            var earlier: [JSONValue] = []
            if case .array(let old)? = existing { earlier = old }
            return .array(
                elements.enumerated().map { index, item in
                    decode(item, into: index < earlier.count ? earlier[index] : nil, as: element) ?? zero(element)
                })
        case .structure(let fields):
            guard case .object(let members) = value else { return value == .null ? existing : value }
            var result = JSONObject()
            if case .object(let old)? = existing { result = old }
            for member in members.members {
                guard let (name, fieldShape) = fields.first(where: { GoFieldName.matches(member.key, $0.0) }) else { continue }
                result[name] = decode(member.value, into: result[name], as: fieldShape)
            }
            return .object(result)
        case .map:
            guard case .object(let members) = value else { return value == .null ? .null : value }
            var result = JSONObject()
            if case .object(let old)? = existing { result = old }
            for member in members.members { result[member.key] = member.value }
            return .object(result)
        }
    }

    /// What a new element holds when `null` is decoded into it: Go's zero value.
    private static func zero(_ shape: Shape) -> JSONValue {
        switch shape {
        case .string: .string("")
        case .integer: .number(JSONNumber(0))
        case .bool: .bool(false)
        case .structure: .object(JSONObject())
        case .pointer, .slice, .map: .null
        }
    }

    /// Whether `value` is of a kind Go decodes into `shape` (an int: an integer literal in 64 bits).
    private static func fits(_ value: JSONValue, _ shape: Shape) -> Bool {
        switch (shape, value) {
        case (.string, .string), (.bool, .bool), (.slice, .array), (.structure, .object), (.map, .object): true
        case (.integer, .number(let number)): number.int64 != nil
        case (.pointer(let pointee), _): fits(value, pointee)
        default: false
        }
    }
}
