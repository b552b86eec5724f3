import ArgumentParser
import Diagnostics

struct Conflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Double claims, wildcard overlaps, shadowed sockets, leftover chains and pods that are gone.",
        discussion: "Exits with status 1 when anything is found.")

    @OptionGroup var output: OutputOptions

    func run() throws {
        let inventory = try NodeReader.read()
        let findings = ConflictFinder.findings(in: inventory)
        print(output.json ? Reports.conflictsJSON(findings, inventory) : Reports.conflictsTable(findings, inventory), terminator: "")
        if !findings.isEmpty { throw ExitCode(1) }
    }
}
