/// What the process edge read from stdin for a verb that takes a network configuration.
public enum StandardInput: Sendable, Equatable {
    /// All of stdin: at most `byteLimit` bytes, up to end of file.
    case bytes([UInt8])
    /// read(2) failed; the reason as strerror(3) words it.
    case unreadable(reason: String)
    /// More than `byteLimit` bytes came; reading stopped there.
    case oversized

    /// The most stdin this plugin reads. A runtime's config is a few KiB, and even 1024 mappings
    /// with a prevResult of 10^5 addresses stay under 5 MiB; the bound keeps a runaway or hostile
    /// writer from making a root process hold whatever it sends (the Go plugins read without one).
    public static let byteLimit = 16 << 20
}
