/// Little helpers to lay out kernel structures in a byte array: host-order integers (x86-64 and
/// arm64 Linux are little-endian, as the kernel ABI here), network-order where the struct says so.
package struct ByteWriter {
    package private(set) var bytes: [UInt8]

    package init(size: Int) {
        bytes = [UInt8](repeating: 0, count: size)
    }

    package mutating func u8(_ value: UInt8, at offset: Int) {
        bytes[offset] = value
    }

    package mutating func u16(_ value: UInt16, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 2, with: $0) }
    }

    package mutating func u32(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    }

    /// A port in network order (nf_conntrack_man_proto).
    package mutating func u16BigEndian(_ value: UInt16, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { bytes.replaceSubrange(offset..<offset + 2, with: $0) }
    }

    package mutating func raw(_ data: some Collection<UInt8>, at offset: Int) {
        bytes.replaceSubrange(offset..<offset + data.count, with: data)
    }

    /// A NUL-terminated string in a fixed field; longer text is an error caught by the caller.
    package mutating func string(_ text: String, at offset: Int) {
        raw(Array(text.utf8), at: offset)
    }
}

/// Reads the same layouts back.
package struct ByteReader {
    package let bytes: ArraySlice<UInt8>

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    package var count: Int { bytes.count }

    package func u8(_ offset: Int) -> UInt8 { bytes[bytes.startIndex + offset] }

    package func u16(_ offset: Int) -> UInt16 { UInt16(u8(offset)) | UInt16(u8(offset + 1)) << 8 }

    package func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }

    package func u16BigEndian(_ offset: Int) -> UInt16 { UInt16(u8(offset)) << 8 | UInt16(u8(offset + 1)) }

    package func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
        bytes[(bytes.startIndex + offset)..<(bytes.startIndex + offset + length)]
    }

    /// A NUL-terminated string from a fixed field.
    package func string(_ offset: Int, maxLength: Int) -> String {
        let field = slice(offset, maxLength)
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
