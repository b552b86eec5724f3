import ArgumentParser
import Diagnostics

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every hostPort mapping: protocol, hostIP, hostPort → pod, owner, where the rule lives, and sockets on the same port.")

    @OptionGroup var output: OutputOptions

    func run() throws {
        let inventory = try NodeReader.read()
        print(output.json ? Reports.listJSON(inventory) : Reports.listTable(inventory), terminator: "")
    }
}
