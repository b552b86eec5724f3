/// Typed, path-aware reads from a decoded JSON object.
///
/// Every failure names the full path ("runtimeConfig.portMappings[2].hostPort") and what was found,
/// which is the difference between an operator fixing a conflist in a minute and reading Go's
/// "json: cannot unmarshal string into Go struct field".
struct JSONFields {
    let object: JSONObject
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The member naming `key` as Go's encoding/json matches keys (`GoFieldName`), `null` included.
    func member(_ key: String) -> JSONValue? { object.goField(key) }

    /// The value of `key`; JSON `null` counts as absent, as it does for Go's pointer fields.
    func value(_ key: String) -> JSONValue? {
        guard let value = member(key) else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw mismatch(key, "a string", value) }
        return text
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(key, "true or false", value) }
        return flag
    }

    /// An integer. A fraction or exponent is a decoding error (as in Go); a whole number beyond
    /// 64 bits decodes but is out of any range we accept, so it is an invalid value.
    func integer(_ key: String) throws(ConfigError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, number.isInteger else { throw mismatch(key, "an integer", value) }
        guard let exact = number.int64 else {
            throw ConfigError(.invalidValue, field: fieldPath(key), "\(number.literal.messageExcerpt) is out of range")
        }
        return Int(exact)
    }

    func array(_ key: String) throws(ConfigError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw mismatch(key, "an array", value) }
        return elements
    }

    func object(_ key: String) throws(ConfigError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else { throw mismatch(key, "an object", value) }
        return JSONFields(members, path: fieldPath(key))
    }

    /// An array of strings (conditions).
    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let elements = try array(key) else { return nil }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw ConfigError(.decoding, field: "\(fieldPath(key))[\(index)]", "expected a string, found \(element.kindName)")
            }
            result.append(text)
        }
        return result
    }

    private func mismatch(_ key: String, _ expected: String, _ found: JSONValue) -> ConfigError {
        ConfigError(.decoding, field: fieldPath(key), "expected \(expected), found \(found.kindName)")
    }
}

extension JSONValue {
    /// A short description of what a value is, for error messages ("string \"80\"", "an object").
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return "boolean \(flag)"
        case .number(let number): return "number \(number.literal)"
        case .string(let text): return "string \"\(text.messageExcerpt)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
