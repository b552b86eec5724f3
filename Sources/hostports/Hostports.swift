import ArgumentParser
import Diagnostics

/// `hostports`: who holds each hostPort on this node, the conflicts, and why a port doesn't answer.
/// Reads the kernel (nat tables through libiptc, sockets, addresses and routes through netlink);
/// never changes anything and never creates a table.
@main
struct Hostports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostports",
        abstract: "Explain the node's hostPort mappings (CNI portmap).",
        discussion:
            "Reads the legacy iptables nat tables, the nftables backend's tables, listening sockets, addresses and routes of the network namespace it runs in. It changes nothing.",
        subcommands: [List.self, Conflicts.self, Explain.self],
        defaultSubcommand: List.self)
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (schema in docs/hostports.md) instead of a table.")
    var json = false
}
