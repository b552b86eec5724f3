/// Why a config (or prevResult) was refused, with the JSON path of the field at fault.
///
/// The kind decides the CNI code (see `PortmapPlugin`): a value of the wrong JSON type could not be
/// decoded (6); a well-typed value outside what the plugin accepts is an invalid config (7); a
/// cniVersion it does not speak is 1.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case decoding
        case invalidValue
        case incompatibleVersion
    }

    public var kind: Kind
    public var field: String
    public var message: String

    public init(_ kind: Kind, field: String, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

extension String {
    /// The most characters of a value an error message quotes.
    static let messageExcerptLength = 64

    /// The value as an error message quotes it: whole, or its first 64 characters (Unicode
    /// scalars, so a run of combining marks cannot make one huge character) and "…". A message
    /// names the value at fault, but a hostile 10 MB value must not become a 10 MB message.
    var messageExcerpt: String {
        guard utf8.count > Self.messageExcerptLength else { return self }
        let scalars = unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: Self.messageExcerptLength, limitedBy: scalars.endIndex),
            end != scalars.endIndex
        else { return self }
        return String(scalars[..<end]) + "…"
    }
}
