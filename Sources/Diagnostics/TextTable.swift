/// Columns aligned with spaces, as `ss` and `kubectl get` print them: a header row, then one row
/// per item, each cell padded to its column's widest; the last column is not padded.
struct TextTable {
    let header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) {
        self.header = header
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// Written byte by byte into one buffer: joining a String per row and per cell took as long as
    /// reading a thousand pods' tables. Widths count Characters, as before, only where a cell is
    /// not ASCII.
    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { Self.width($0[column]) }.max() ?? 0 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(all.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        for row in all {
            for (column, cell) in row.enumerated() {
                if column > 0 { bytes.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: " ")]) }
                bytes.append(contentsOf: cell.utf8)
                if column < row.count - 1 {
                    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - Self.width(cell)))
                }
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func width(_ cell: String) -> Int {
        cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count
    }
}
