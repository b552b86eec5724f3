#!/usr/bin/env python3
"""Benchmark helper for scripts/bench.sh (python3 standard library only).

  bench.py run --name NAME --plugin PATH --containers N --extra M --path-dir DIR --out FILE
      Runs inside the node network namespace (bench.sh starts it with `ip netns exec`). Drives one
      portmap binary directly with a synthetic dual-stack prevResult: a warm-up ADD+DEL, then N
      ADDs, M more ADDs with the N already in the table ("ADD@N"), CHECK of all N+M, DEL of all
      N+M. The timing pass times each invocation (wall clock around posix_spawn + wait4); a second,
      identical pass runs each under GNU time for its peak RSS (see Runner.invoke). Both passes
      verify that every ADD/DEL exits 0 and that no CNI-DN- chain is left in either nat table at
      the end. Writes the samples as JSON to FILE and the full nat tables to FILE.tables.

  bench.py report OURS.json GO.json
      Prints the comparison table.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

NETWORK = "pmbench-net"
TIME = "/usr/bin/time"
OPS = ["ADD", "ADD@N", "CHECK", "DEL"]
HOST_IP = "192.0.2.1"


def container_id(index):
    return "pmbench-%04d" % index


def addresses(index):
    """Container addresses: 10.88.x.y/24 and 2001:db8:89::x/64, unique per index."""
    third, fourth = divmod(index, 250)
    return ["10.88.%d.%d/24" % (third, fourth + 2), "2001:db8:89::%x/64" % (index + 2)]


def mappings(index):
    """Four mappings per container: tcp and udp on one host port, another tcp, one bound to HOST_IP."""
    return [
        {"hostPort": 20000 + index, "containerPort": 80, "protocol": "tcp"},
        {"hostPort": 20000 + index, "containerPort": 53, "protocol": "udp"},
        {"hostPort": 30000 + index, "containerPort": 443, "protocol": "tcp"},
        {"hostPort": 40000 + index, "containerPort": 8080, "protocol": "tcp", "hostIP": HOST_IP},
    ]


def config(index):
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK,
        "type": "portmap",
        "snat": True,
        "runtimeConfig": {"portMappings": mappings(index)},
        "prevResult": {
            "cniVersion": "1.0.0",
            "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/pmbench-pod-%d" % index}],
            "ips": [{"address": a, "interface": 0} for a in addresses(index)],
        },
    }


class Runner:
    def __init__(self, plugin, path_dir, lockfile, workdir):
        self.plugin = plugin
        self.base_env = {
            "CNI_NETNS": "/var/run/netns/pmbench-pod",
            "CNI_IFNAME": "eth0",
            "CNI_PATH": "/usr/lib/cni",
            "PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % path_dir,
        }
        if lockfile:
            self.base_env["XTABLES_LOCKFILE"] = lockfile
        self.workdir = workdir

    def invoke(self, command, index, measure_rss=False):
        """Runs one verb; returns (status, wall ms, peak RSS KiB or None, stdout, stderr).

        The wall time is taken around posix_spawn + wait4 of the plugin itself. The peak RSS cannot
        come from that wait4: a child keeps the largest RSS of every address space it had, and
        before its exec it had python's. So with measure_rss the plugin runs under GNU time
        (forked from a ~1 MiB process), whose %M is the largest of the plugin and the children it
        waited for (e.g. the Go plugin's iptables processes); those runs' wall times are not used.
        """
        stdin_path = os.path.join(self.workdir, "stdin.json")
        out_path = os.path.join(self.workdir, "stdout")
        err_path = os.path.join(self.workdir, "stderr")
        rss_path = os.path.join(self.workdir, "rss")
        with open(stdin_path, "w") as f:
            json.dump(config(index), f)
        env = dict(self.base_env, CNI_COMMAND=command, CNI_CONTAINERID=container_id(index))
        argv = [self.plugin]
        if measure_rss:
            argv = [TIME, "-f", "%M", "-o", rss_path] + argv
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
        _, wait_status, _ = os.wait4(pid, 0)
        elapsed_ms = (time.perf_counter_ns() - start) / 1e6
        with open(out_path, errors="replace") as f:
            stdout = f.read()
        with open(err_path, errors="replace") as f:
            stderr = f.read()
        rss = None
        if measure_rss:
            with open(rss_path) as f:
                # "Command exited with non-zero status N" comes first when the plugin failed.
                rss = int(f.read().split()[-1])
        return os.waitstatus_to_exitcode(wait_status), elapsed_ms, rss, stdout, stderr


def nat_table(v6):
    tool = "ip6tables-legacy-save" if v6 else "iptables-legacy-save"
    return subprocess.run([tool, "-t", "nat"], check=True, capture_output=True, text=True).stdout


def rule_count(table):
    return sum(1 for line in table.splitlines() if line.startswith("-A "))


def route_localnet(interface):
    try:
        with open("/proc/sys/net/ipv4/conf/%s/route_localnet" % interface) as f:
            return f.read().strip()
    except OSError:
        return "?"


def run(args):
    failures = []
    samples = {op: [] for op in OPS}
    check_failures = []
    total = args.containers + args.extra
    with tempfile.TemporaryDirectory(prefix="pmbench-") as workdir:
        runner = Runner(args.plugin, args.path_dir, args.lockfile, workdir)

        def one_pass(measure_rss):
            """Warm-up ADD+DEL, N ADDs, M ADDs on top (ADD@N), CHECK all, DEL all, then the leftover check."""
            label = "rss pass" if measure_rss else "timing pass"
            observed = {}

            def step(op, command, index):
                status, ms, rss, stdout, stderr = runner.invoke(command, index, measure_rss)
                if measure_rss:
                    # The timing pass made the samples; this pass adds each one's peak RSS.
                    samples[op][len(observed.setdefault(op, []))]["rss"] = rss
                    observed[op].append(rss)
                else:
                    samples[op].append({"ms": ms, "status": status})
                if status != 0:
                    detail = " ".join((stdout.strip() + " " + stderr.strip()).split())
                    if len(detail) > 500:
                        detail = detail[:250] + " ... " + detail[-250:]
                    if command != "CHECK":
                        failures.append("%s: %s %s exited %d: %s" % (label, command, container_id(index), status, detail))
                    elif not measure_rss:
                        check_failures.append({"container": container_id(index), "status": status, "output": detail})

            warm = total + 1   # page cache, first creation of the top-level chains; not counted
            for command in ("ADD", "DEL"):
                status, _, _, stdout, stderr = runner.invoke(command, warm, measure_rss)
                if status != 0:
                    failures.append("%s: warm-up %s exited %d: %s %s" % (label, command, status, stdout.strip(), stderr.strip()))
            started = time.monotonic()
            for index in range(args.containers):
                step("ADD", "ADD", index)
            for index in range(args.containers, total):
                step("ADD@N", "ADD", index)
            tables = {"v4": nat_table(False), "v6": nat_table(True)}
            localnet = route_localnet(args.interface)
            for index in range(total):
                step("CHECK", "CHECK", index)
            for index in range(total):
                step("DEL", "DEL", index)
            elapsed = time.monotonic() - started
            leftovers = []
            for family, v6 in (("v4", False), ("v6", True)):
                for line in nat_table(v6).splitlines():
                    if "CNI-DN-" in line or "pmbench-0" in line:
                        leftovers.append("%s: %s" % (family, line))
            if leftovers:
                failures.append("%s: after all DELs the nat tables still hold %d CNI-DN-/container lines:\n    %s"
                                % (label, len(leftovers), "\n    ".join(leftovers[:20])))
            return tables, localnet, elapsed

        tables, localnet, elapsed = one_pass(measure_rss=False)
        with open(args.out + ".tables", "w") as f:
            f.write("# nat tables with %d containers (v4)\n%s# (v6)\n%s" % (total, tables["v4"], tables["v6"]))
        one_pass(measure_rss=True)
    result = {
        "name": args.name,
        "plugin": args.plugin,
        "containers": args.containers,
        "extra": args.extra,
        "samples": samples,
        "check_failures": check_failures,
        "failures": failures,
        "peak_rules": {family: rule_count(table) for family, table in tables.items()},
        "route_localnet": localnet,
        "tables": tables,
        "elapsed_s": elapsed,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)
    for failure in failures:
        print("FAIL [%s] %s" % (args.name, failure), file=sys.stderr)
    return 1 if failures else 0


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def summarize(samples):
    ms = [s["ms"] for s in samples]
    return {
        "n": len(ms),
        "median": statistics.median(ms),
        "p90": percentile(ms, 0.9),
        "max": max(ms),
        "total": sum(ms),
        "rss": max(s.get("rss") or 0 for s in samples),
    }


def normalized(table):
    """Rule and chain lines without counters or comments, in order."""
    lines = []
    for line in table.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(":"):
            line = line.split(" ")[0]
        lines.append(line)
    return lines


def report(args):
    with open(args.ours) as f:
        ours = json.load(f)
    with open(args.go) as f:
        go = json.load(f)
    ops = OPS
    header = "%-6s %-6s %5s %9s %9s %9s %10s %9s" % ("plugin", "op", "n", "median", "p90", "max", "total", "peakRSS")
    units = "%-6s %-6s %5s %9s %9s %9s %10s %9s" % ("", "", "", "ms", "ms", "ms", "ms", "KiB")
    print(header)
    print(units)
    print("-" * len(header))
    stats = {}
    for run in (ours, go):
        for op in ops:
            if not run["samples"][op]:
                continue
            s = summarize(run["samples"][op])
            stats[(run["name"], op)] = s
            print("%-6s %-6s %5d %9.1f %9.1f %9.1f %10.0f %9d"
                  % (run["name"], op, s["n"], s["median"], s["p90"], s["max"], s["total"], s["rss"]))
    print("-" * len(header))
    for op in ops:
        a, b = stats.get((ours["name"], op)), stats.get((go["name"], op))
        if not a or not b:
            continue
        print("%-6s %-6s %5s %9.3f %9.3f %9.3f %10.3f %9.3f"
              % ("ours/go", op, "", a["median"] / b["median"], a["p90"] / b["p90"], a["max"] / b["max"],
                 a["total"] / b["total"], a["rss"] / b["rss"]))
    print()
    n = ours["containers"]
    for run in (ours, go):
        first = [s["ms"] for s in run["samples"]["ADD"][: max(1, n // 10)]]
        at_n = [s["ms"] for s in run["samples"]["ADD@N"]]
        scaling = ""
        if first and at_n:
            scaling = "ADD median %.1f ms for the first %d containers, %.1f ms with %d in the table (x%.2f)" % (
                statistics.median(first), len(first), statistics.median(at_n), n, statistics.median(at_n) / statistics.median(first))
        print("%-4s: %s; peak nat rules v4=%d v6=%d; route_localnet on the pod-route interface=%s; run %.1f s"
              % (run["name"], scaling, run["peak_rules"]["v4"], run["peak_rules"]["v6"], run["route_localnet"], run["elapsed_s"]))
    for family in ("v4", "v6"):
        a, b = normalized(ours["tables"][family]), normalized(go["tables"][family])
        if a == b:
            print("nat %s at peak: identical (%d lines)" % (family, len(a)))
        else:
            only_ours, only_go = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            print("nat %s at peak: %d lines only in ours, %d only in go%s%s" % (
                family, len(only_ours), len(only_go),
                "; e.g. ours: " + only_ours[0] if only_ours else "", "; e.g. go: " + only_go[0] if only_go else ""))
    for run in (ours, go):
        failed = run["check_failures"]
        if failed:
            print("%s: CHECK failed for %d of %d containers (a failed CHECK stops early, so its timings cover "
                  "less work); first: %s (exit %d): %s"
                  % (run["name"], len(failed), len(run["samples"]["CHECK"]), failed[0]["container"],
                     failed[0]["status"], failed[0]["output"]))
        else:
            print("%s: CHECK passed for all %d containers" % (run["name"], len(run["samples"]["CHECK"])))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--plugin", required=True)
    r.add_argument("--containers", type=int, default=50)
    r.add_argument("--extra", type=int, default=10)
    r.add_argument("--path-dir", required=True, help="directory put first on PATH (iptables -> iptables-legacy)")
    r.add_argument("--lockfile", default="", help="XTABLES_LOCKFILE for the plugin (empty: the default lock)")
    r.add_argument("--interface", default="pmb0", help="interface whose route_localnet is reported")
    r.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("ours")
    p.add_argument("go")
    args = parser.parse_args()
    return run(args) if args.mode == "run" else report(args)


if __name__ == "__main__":
    sys.exit(main())
