import Testing

@testable import Diagnostics

/// The aligned text every `hostports` table is printed as.
struct TextTableTests {
    /// Each column as wide as its widest cell plus two spaces, the last one not padded; a cell that
    /// is not ASCII is as wide as its Characters, not its bytes.
    @Test func columnsAlignedTheLastNotPadded() {
        var table = TextTable(["A", "NAME", "LAST"])
        table.append(["tcp", "café", "x"])
        table.append(["sctp", "n", "longer last"])
        #expect(
            table.rendered == """
                A     NAME  LAST
                tcp   café  x
                sctp  n     longer last

                """)
    }
}
