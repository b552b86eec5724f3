/// A CNI specification version ("major.minor.patch"), ordered numerically.
public struct CNIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "x.y.z" with decimal components; anything else is nil.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 6, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(part)
            else { return nil }
            numbers.append(number)
        }
        self.init(numbers[0], numbers[1], numbers[2])
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: CNIVersion, rhs: CNIVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    /// The versions this plugin speaks, oldest first. 0.1.0/0.2.0 results have no `interfaces`,
    /// so the sandbox interface cannot be told apart; like most current plugins we start at 0.3.0.
    public static let supported: [CNIVersion] = [
        CNIVersion(0, 3, 0), CNIVersion(0, 3, 1), CNIVersion(0, 4, 0), CNIVersion(1, 0, 0), CNIVersion(1, 1, 0),
    ]
    public static let latest = CNIVersion(1, 1, 0)
    /// CHECK appeared in 0.4.0.
    public static let check = CNIVersion(0, 4, 0)
    /// GC and STATUS appeared in 1.1.0.
    public static let gcAndStatus = CNIVersion(1, 1, 0)
    /// Results lost the per-IP `version` field in 1.0.0.
    public static let unversionedIPs = CNIVersion(1, 0, 0)
}
