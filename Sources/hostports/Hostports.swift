import ArgumentParser
import Diagnostics

/// `hostports`: who holds each hostPort on this node, the conflicts, and why a port doesn't answer.
/// Reads the kernel (nat tables through libiptc and libnftnl, sockets, addresses and routes through
/// netlink); never changes anything and never creates a table.
@main
struct Hostports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostports",
        abstract: "Who holds each hostPort and node port on this node (CNI portmap, CRI-O, netavark, Docker, kube-proxy), and what goes wrong.",
        discussion:
            "Reads the iptables nat tables of both stores (the CNI portmap, CRI-O, netavark, Docker and kube-proxy layouts), the CNI nftables tables and every other nftables table with a nat hook (kube-proxy's, netavark's, CRI-O's), listening sockets, addresses and routes of the network namespace it runs in. It changes nothing.",
        subcommands: [List.self, Conflicts.self, Explain.self, Metrics.self],
        defaultSubcommand: List.self)
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (schema in docs/hostports.md) instead of a table.")
    var json = false
}
