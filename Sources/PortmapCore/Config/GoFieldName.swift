/// How Go's encoding/json matches an object key to a struct field: the exact JSON name, or else
/// the name with ASCII letters in any case, where the Kelvin sign (U+212A) also stands for k and
/// the long s (U+017F) for s. Several keys naming one field are decoded into it one after
/// another (`GoDecoding`).
///
/// The Go portmap we replace, and libcni that builds its config, read every key that way, so a
/// conflist written with `"SNAT": false` or `"HostPort"` means to us what it means to them.
/// Matching exactly would silently ignore such a key (and fall back to its default) where the Go
/// plugin honours it. One difference is left: Go reads `prevResult` through a map, re-sorted by
/// key before matching, so where one key is spelled twice inside it the bytewise greatest
/// spelling wins there, not the last.
enum GoFieldName {
    /// Whether `key` names the field whose JSON name is `name` (ASCII, as all ours are).
    static func matches(_ key: String, _ name: String) -> Bool {
        if key == name { return true }
        // The two non-ASCII stand-ins are longer in UTF-8 than the letters they stand for (3 and 2
        // bytes), so a match is never shorter than the name and at most three times as long.
        let keyLength = key.utf8.count
        let nameLength = name.utf8.count
        guard keyLength >= nameLength, keyLength <= 3 * nameLength else { return false }
        var keyScalars = key.unicodeScalars.makeIterator()
        for expected in name.unicodeScalars {
            guard let scalar = keyScalars.next(), folded(scalar) == folded(expected) else { return false }
        }
        return keyScalars.next() == nil
    }

    private static func folded(_ scalar: Unicode.Scalar) -> UInt32 {
        switch scalar.value {
        case 0x41...0x5A: scalar.value + 0x20  // A-Z
        case 0x212A: 0x6B  // KELVIN SIGN: k
        case 0x017F: 0x73  // LATIN SMALL LETTER LONG S: s
        default: scalar.value
        }
    }
}

extension JSONObject {
    /// The value of the last member whose key names `field` as Go matches it (`null` included):
    /// a config's top level is merged by `GoDecoding` first; prevResult's inner objects, which
    /// Go reads through maps, are not.
    func goField(_ field: String) -> JSONValue? {
        members.last { GoFieldName.matches($0.key, field) }?.value
    }

    /// Sets `field` under its own name, where the first member naming it was (or at the end), and
    /// drops every other member naming it: what Go writes after reading such an object into a
    /// struct. nil removes them all.
    mutating func setGoField(_ field: String, _ value: JSONValue?) {
        set(field, value, replacing: { GoFieldName.matches($0, field) })
    }
}
