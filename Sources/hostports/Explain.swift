import ArgumentParser
import Diagnostics

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a packet to <addr>:<port>[/tcp|udp|sctp] and say which step fails and what to do.",
        discussion: "Exits with status 1 when the packet would not reach a pod.")

    @Argument(
        help: "The address and port a client connects to, e.g. 192.0.2.1:8080 or [2001:db8::1]:53/udp.",
        transform: { text in
            guard let target = ExplainTarget(parsing: text) else {
                throw ValidationError("expected <addr>:<port>[/tcp|udp|sctp] with an IPv6 address in brackets, got \"\(text)\"")
            }
            return target
        })
    var target: ExplainTarget

    @OptionGroup var output: OutputOptions

    func run() throws {
        let inventory = try NodeReader.read()
        let explanation = PacketPathExplainer.explain(target, in: inventory)
        print(output.json ? Reports.explainJSON(explanation) : Reports.explainText(explanation), terminator: "")
        if explanation.failure != nil { throw ExitCode(1) }
    }
}
