#!/usr/bin/env python3
"""Benchmark helper for scripts/bench-hostports.sh (python3 standard library only). It reuses
scripts/bench.py's pods (config, addresses, mappings: 4 mappings a pod, 7 DNAT mappings over both
families), its plugin runner and its kube-proxy-like rules.

  bench_hostports.py kube-proxy --rules K
      Prints the restore text of K kube-proxy iptables-mode IPv4 nat rules (bench.kube_proxy_rules:
      the "kubernetes service portals" jumps, KUBE-SERVICES cluster-IP rules on 10.96.x.x,
      KUBE-NODEPORTS on 30000-32767, KUBE-SVC-/KUBE-SEP-/KUBE-EXT- chains with 16-character base32
      hashes and DNATs to 10.244.x.x, KUBE-MARK-MASQ, KUBE-POSTROUTING), without the portmap chains.

  bench_hostports.py pod-netns --node NS --prefix P --pods N
      Makes N pod network namespaces P-<index>, each with eth0 (a veth whose peer hpbv<index> is a
      port of the bridge cni0 in NS, hairpin on) holding the pod's bench.addresses(index), as the
      bridge plugin leaves them: hostports' pod-gone check then finds every pod address in some
      namespace, and its route lookups go to cni0. NS's cni0 must exist.

  bench_hostports.py populate --plugin PATH --node NS --pods N --backend iptables|nftables --workdir DIR
      ADDs pods 0..N-1 with our plugin in NS (setns, then posix_spawn of the plugin with
      bench.config(index) on stdin and the CNI_* environment, as bench.py runs it; the pods'
      namespaces are not needed for the rules). --backend iptables gives the config no backend
      key (the iptables backend, the store chosen per node), nftables gives "backend": "nftables".

  bench_hostports.py measure --hostports PATH --node NS --backend B --pods N --kube-proxy-rules K
                             --runs R --rss-runs S --workdir DIR --out FILE
      First checks what hostports reads: `list --json` must hold 7 mappings for each of the N pods
      (all reachable, in the backend's store, one containerID a pod) and `conflicts --json` must
      exit 0 or 1, its findings counted by kind. Then R rounds of `ip netns exec NS hostports list`,
      `... list --json`, `... conflicts` and `... /bin/true` (what ip netns exec itself costs), the
      order rotated each round, wall time around posix_spawn + wait4, stdout into a file; then S
      rounds under GNU time for the peak RSS (its %M, the largest RSS of ip and of hostports it
      execs; those wall times are not used). Exit status: 0 for list, 0 or 1 for conflicts, else a
      failure. Writes the samples to FILE (JSON).

  bench_hostports.py report [--markdown] --commit C --command CMD FILE...
      Prints the measured runs, and with --markdown an entry for docs/benchmarks.md.
"""

import argparse
import collections
import datetime
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

sys.dont_write_bytecode = True  # importing bench must not leave scripts/__pycache__ in the work tree
import bench  # noqa: E402

TARGET_S = 0.3
MAPPINGS_PER_POD = 7  # bench.mappings: 4 in IPv4, 3 in IPv6 (the one bound to bench.HOST_IP is IPv4's)
COMMANDS = [
    ("list", ["list"]),
    ("list --json", ["list", "--json"]),
    ("conflicts", ["conflicts"]),
]
BASELINE = "true"  # `ip netns exec NODE true`: what ip netns exec itself costs
STORES = {"iptables": {"iptables-nft"}, "nftables": {"nftables"}}
BACKEND_LABELS = {"iptables": "iptables (iptables-nft store)", "nftables": "nftables"}


def kube_proxy(args):
    sys.stdout.write(bench.preload_text(0, args.rules, False, portmap=False))
    return 0


def ip_batch(lines, netns=None):
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-b", "-"]
    subprocess.run(argv, input="".join(line + "\n" for line in lines), check=True, text=True)


def pod_netns(args):
    started = time.monotonic()
    names = ["%s-%d" % (args.prefix, index) for index in range(args.pods)]
    ip_batch(["netns add %s" % name for name in names])
    node_lines = []
    for index, name in enumerate(names):
        veth = "hpbv%d" % index
        node_lines += ["link add %s type veth peer name eth0 netns %s" % (veth, name),
                       "link set %s master cni0 up" % veth,
                       "link set %s type bridge_slave hairpin on" % veth]
    ip_batch(node_lines, args.node)
    for index, name in enumerate(names):
        ip_batch(["addr add %s dev eth0" % address + (" nodad" if ":" in address else "")
                  for address in bench.addresses(index)] + ["link set eth0 up", "link set lo up"], name)
    print("made %d pod namespaces (veth eth0 on cni0, the pods' addresses) in %.1f s" % (args.pods, time.monotonic() - started),
          file=sys.stderr)
    return 0


def populate(args):
    bench.Netns(args.node).enter()
    runner = bench.Runner("/usr/sbin", os.path.join(args.workdir, "xtables.lock"), args.workdir)
    backend = None if args.backend == "iptables" else args.backend
    started = time.monotonic()
    times = []
    for index in range(args.pods):
        status, ms, _, detail = runner.invoke(args.plugin, "ADD", index, backend=backend)
        times.append(ms)
        if status != 0:
            print("FAIL: ADD %s (%s backend) exited %d: %s" % (bench.container_id(index), args.backend, status, detail), file=sys.stderr)
            return 1
    print("ADDed %d pods (%s backend) in %.1f s: ADD median %.2f ms, p90 %.2f ms"
          % (args.pods, args.backend, time.monotonic() - started, statistics.median(times), bench.percentile(times, 0.9)),
          file=sys.stderr)
    return 0


class Spawner:
    """Runs `ip netns exec NS ...` the way bench.Runner runs the plugin: posix_spawn + wait4, the
    wall time around them, stdout and stderr into files."""

    def __init__(self, node, workdir):
        self.node = node
        self.out_path = os.path.join(workdir, "stdout")
        self.err_path = os.path.join(workdir, "stderr")
        self.rss_path = os.path.join(workdir, "rss")
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

    def run(self, argv, measure_rss=False):
        """Returns (exit status, wall ms, peak RSS KiB or None)."""
        argv = ["/usr/sbin/ip", "netns", "exec", self.node] + argv
        if measure_rss:
            argv = [bench.TIME, "-f", "%M", "-o", self.rss_path] + argv
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, self.out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, self.err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions)
        _, wait_status, _ = os.wait4(pid, 0)
        elapsed_ms = (time.perf_counter_ns() - start) / 1e6
        rss = None
        if measure_rss:
            with open(self.rss_path) as f:
                # "Command exited with non-zero status N" comes first when the command failed.
                rss = int(f.read().split()[-1])
        return os.waitstatus_to_exitcode(wait_status), elapsed_ms, rss

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def errors(self):
        with open(self.err_path, errors="replace") as f:
            return " ".join(f.read().split())[:400]


def check_listing(args, spawner, fail):
    """What `list --json` and `conflicts --json` find on the node: (facts for the report)."""
    facts = {}
    status, _, _ = spawner.run([args.hostports, "list", "--json"])
    if status != 0:
        fail("hostports list --json exited %d: %s" % (status, spawner.errors()))
        return facts
    listing = json.loads(spawner.output())
    mappings = listing["mappings"]
    facts["mappings"] = len(mappings)
    facts["stores"] = sorted(collections.Counter(m["store"] for m in mappings).items())
    facts["families"] = sorted(collections.Counter(m["family"] for m in mappings).items())
    facts["tables"] = ["%s %s %s" % (t["store"], t["family"], "exists" if t["exists"] else "missing") for t in listing["tables"]]
    expected = MAPPINGS_PER_POD * args.pods
    if len(mappings) != expected:
        fail("hostports list --json found %d mappings, not %d (%d pods x %d)" % (len(mappings), expected, args.pods, MAPPINGS_PER_POD))
    stores = set(m["store"] for m in mappings)
    if stores != STORES[args.backend]:
        fail("the %s backend's mappings are in %s, not %s" % (args.backend, sorted(stores), sorted(STORES[args.backend])))
    owners = collections.Counter(m["containerID"] for m in mappings)
    wrong = [owner for owner, n in owners.items() if n != MAPPINGS_PER_POD]
    if len(owners) != args.pods or wrong:
        fail("hostports list --json names %d containers (not %d); with another count than %d: %s"
             % (len(owners), args.pods, MAPPINGS_PER_POD, wrong[:4]))
    unreachable = sum(1 for m in mappings if not m["reachable"])
    if unreachable:
        fail("%d mappings not reachable from an entry rule" % unreachable)
    status, _, _ = spawner.run([args.hostports, "conflicts", "--json"])
    if status not in (0, 1):
        fail("hostports conflicts --json exited %d: %s" % (status, spawner.errors()))
        return facts
    found = json.loads(spawner.output())["conflicts"]
    facts["conflicts"] = sorted(collections.Counter(c["kind"] for c in found).items())
    facts["conflicts_status"] = status
    status, _, _ = spawner.run([args.hostports, "list"])
    facts["list_rows"] = max(0, len(spawner.output().splitlines()) - 1)
    facts["stderr"] = spawner.errors()
    return facts


def measure(args):
    failures = []

    def fail(message):
        failures.append("%s backend: %s" % (args.backend, message))
        print("FAIL %s backend: %s" % (args.backend, message), file=sys.stderr)

    spawner = Spawner(args.node, args.workdir)
    load_start = bench.loadavg()
    started = time.monotonic()
    facts = check_listing(args, spawner, fail)
    commands = [(name, [args.hostports] + argv) for name, argv in COMMANDS] + [(BASELINE, ["/bin/true"])]
    samples = {name: [] for name, _ in commands}
    rss = {name: [] for name, _ in commands}
    statuses = {name: collections.Counter() for name, _ in commands}
    for j in range(args.runs + args.rss_runs):
        measure_rss = j >= args.runs
        # Rotate the order each round, so a slow moment of the machine is spread over all commands.
        shift = j % len(commands)
        for name, argv in commands[shift:] + commands[:shift]:
            status, ms, kib = spawner.run(argv, measure_rss)
            statuses[name][status] += 1
            if measure_rss:
                rss[name].append(kib)
            else:
                samples[name].append(ms)
            if status != 0 and not (name == "conflicts" and status == 1):
                fail("`hostports %s` exited %d: %s" % (name, status, spawner.errors()))
    out = {
        "backend": args.backend,
        "pods": args.pods,
        "kube_proxy_rules": args.kube_proxy_rules,
        "pod_netns": args.pod_netns,
        "node": args.node,
        "facts": facts,
        "samples": samples,
        "rss": rss,
        "statuses": {name: dict(counter) for name, counter in statuses.items()},
        "failures": failures,
        "elapsed_s": time.monotonic() - started,
        "loadavg": {"start": load_start, "end": bench.loadavg()},
        "nproc": os.cpu_count(),
        "kernel": os.uname().release,
    }
    with open(args.out, "w") as f:
        json.dump(out, f)
    print("%s backend: measured %d + %d RSS rounds in %.1f s" % (args.backend, args.runs, args.rss_runs, out["elapsed_s"]),
          file=sys.stderr)
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# Report

def command_line(name):
    return "ip netns exec NODE true" if name == BASELINE else "hostports " + name


def verdict(name, t):
    if name not in ("list", "conflicts"):
        return "info"
    return "MET" if t["median"] <= TARGET_S * 1000 else "NOT MET"


def describe(res):
    facts = res["facts"]
    conflicts = ", ".join("%s %d" % tuple(kv) for kv in facts.get("conflicts", [])) or "none"
    return ("%d pods, %d mappings (%s), %d kube-proxy rules, %s; conflicts: %s"
            % (res["pods"], facts.get("mappings", -1), ", ".join("%s %d" % tuple(kv) for kv in facts.get("families", [])),
               res["kube_proxy_rules"], "a namespace per pod" if res["pod_netns"] else "no pod namespaces", conflicts))


def print_report(results):
    print()
    print("Wall time of `ip netns exec NODE hostports ...` in ms (spawn to exit, stdout into a file); peak RSS in KiB")
    print("(GNU time's %%M: the largest of ip and the hostports it execs). Target: list and conflicts <= %.1f s (median)." % TARGET_S)
    for res in results:
        print()
        print("== %s: %s" % (BACKEND_LABELS[res["backend"]], describe(res)))
        print("   tables: %s" % "; ".join(res["facts"].get("tables", [])))
        header = "%-24s %9s %9s %9s %9s %10s %8s %s" % ("command", "median", "p90", "min", "max", "RSS max", "exit", "target")
        print(header)
        print("-" * len(header))
        for name, values in res["samples"].items():
            t = bench.stats(values)
            r = [k for k in res["rss"][name] if k is not None]
            exits = ",".join("%s" % s for s in sorted(res["statuses"][name]))
            print("%-24s %9.1f %9.1f %9.1f %9.1f %10s %8s %s" % (command_line(name), t["median"], t["p90"], min(values), t["max"],
                                                             "%d" % max(r) if r else "-", exits, verdict(name, t)))
        if res["facts"].get("stderr"):
            print("   stderr of hostports list: %s" % res["facts"]["stderr"])
    print()
    failures = [f for res in results for f in res["failures"]]
    if failures:
        print("CORRECTNESS FAILURES (%d):" % len(failures))
        for failure in failures:
            print("  " + failure)
    else:
        print("Correctness: every listing held %d mappings a pod in its backend's store, all reachable; no run exited 2"
              % MAPPINGS_PER_POD)
    first = results[0]
    print("Run: %.0f s measuring, %d CPUs, kernel %s, load average %s at the start, %s at the end"
          % (sum(r["elapsed_s"] for r in results), first["nproc"], first["kernel"], first["loadavg"]["start"],
             results[-1]["loadavg"]["end"]))


def print_markdown(results, commit, command):
    """An entry for docs/benchmarks.md: heading, the setup as one paragraph (wrapped as the file
    is), the command, one table row per backend and command, and what each listing held."""
    first = results[0]
    kube = "{:,}".format(first["kube_proxy_rules"])
    print("## %s: `hostports` on a node of %d pods and %s kube-proxy rules" % (datetime.date.today().isoformat(), first["pods"], kube))
    print()
    pods = ("each in a namespace of its own on the bridge cni0 (veth, hairpin on)" if first["pod_netns"]
            else "without pod namespaces (conflicts reports every pod as pod-gone)")
    print(textwrap.fill(
        "Commit %s, %d CPUs (kernel %s, load average %s at the start, %s at the end), release build. A node namespace "
        "with %d dual-stack pods ADDed by our plugin (bench.py's 4 mappings a pod: %d DNAT mappings), %s, and %s "
        "kube-proxy iptables-mode IPv4 nat rules in the iptables-nft store. Wall time of `ip netns exec NODE hostports ...` "
        "(stdout into a file), order rotated each round; peak RSS from GNU time (largest of %d runs):"
        % (commit, first["nproc"], first["kernel"], first["loadavg"]["start"], results[-1]["loadavg"]["end"], first["pods"],
           MAPPINGS_PER_POD * first["pods"], pods, kube, len(first["rss"]["list"])), width=100, break_on_hyphens=False))
    print("`%s`" % command)
    print()
    print("| backend | command | median / p90 | min / max | peak RSS | exit | ≤ %.1f s |" % TARGET_S)
    print("|---|---|---|---|---|---|---|")
    for res in results:
        for name, values in res["samples"].items():
            t = bench.stats(values)
            r = [k for k in res["rss"][name] if k is not None]
            exits = ", ".join("%s" % s for s in sorted(res["statuses"][name]))
            print("| %s | `%s` | %.0f / %.0f ms | %.0f / %.0f ms | %s | %s | %s |"
                  % (BACKEND_LABELS[res["backend"]], command_line(name), t["median"], t["p90"], min(values), t["max"],
                     "%.1f MiB" % (max(r) / 1024) if r else "-", exits, verdict(name, t) if name != BASELINE else "-"))
    print()
    for res in results:
        conflicts = ", ".join("%d %s" % (n, kind) for kind, n in res["facts"].get("conflicts", [])) or "none"
        print(textwrap.fill("%s: %d runs of each command (+ %d for RSS); %d mappings listed; conflicts found: %s."
                            % (BACKEND_LABELS[res["backend"]], len(res["samples"]["list"]), len(res["rss"]["list"]),
                               res["facts"].get("mappings", -1), conflicts), width=100, break_on_hyphens=False))


def report(args):
    results = []
    for path in args.files:
        with open(path) as f:
            results.append(json.load(f))
    print_report(results)
    if args.markdown:
        print()
        print_markdown(results, args.commit, args.command)
    return 1 if any(res["failures"] for res in results) else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    k = sub.add_parser("kube-proxy")
    k.add_argument("--rules", type=int, required=True)
    n = sub.add_parser("pod-netns")
    n.add_argument("--node", required=True)
    n.add_argument("--prefix", required=True)
    n.add_argument("--pods", type=int, required=True)
    p = sub.add_parser("populate")
    p.add_argument("--plugin", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--pods", type=int, required=True)
    p.add_argument("--backend", choices=sorted(STORES), required=True)
    p.add_argument("--workdir", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--hostports", required=True)
    m.add_argument("--node", required=True)
    m.add_argument("--backend", choices=sorted(STORES), required=True)
    m.add_argument("--pods", type=int, required=True)
    m.add_argument("--kube-proxy-rules", type=int, required=True)
    m.add_argument("--pod-netns", type=int, choices=(0, 1), default=1)
    m.add_argument("--runs", type=int, default=11)
    m.add_argument("--rss-runs", type=int, default=3)
    m.add_argument("--workdir", required=True)
    m.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--markdown", action="store_true")
    r.add_argument("--commit", default="?")
    r.add_argument("--command", default="scripts/bench-hostports.sh")
    r.add_argument("files", nargs="+")
    args = parser.parse_args()
    return {"kube-proxy": kube_proxy, "pod-netns": pod_netns, "populate": populate, "measure": measure, "report": report}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
