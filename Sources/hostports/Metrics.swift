import ArgumentParser
import Diagnostics

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mappings per owner, store and family, conflicts per kind, orphans, and the read's duration and success, in the Prometheus text format.",
        discussion:
            "For node-exporter's textfile collector (docs/hostports.md has a cron line). A failed read still prints a document, with hostports_read_success 0, and the reason on stderr."
    )

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        func seconds() -> Double {
            let elapsed = (clock.now - start).components
            return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        }
        do {
            let inventory = try NodeReader().inventory()
            let findings = ConflictFinder.findings(in: inventory)
            print(MetricsReport.text(inventory, findings, seconds: seconds()), terminator: "")
        } catch {
            NodeReader.warn("cannot read the node: \(error)")
            print(MetricsReport.failure(seconds: seconds()), terminator: "")
        }
    }
}
