#!/usr/bin/env python3
"""Two builds of the plugin side by side, alternating, on an empty node: VERSION, and ADD then DEL
of one IPv4 pod with a TCP mapping (snat on), in a network namespace of its own.

  scripts/compare_builds.py OLD NEW [--runs N]      (as root)

Each run times both builds (the older first on even runs, the newer on odd ones) from spawn to
exit, so machine noise hits both; the namespace is entered by this process (setns), so no `ip
netns exec` is timed. Both binaries are first copied side by side into one temporary directory:
where a file lives counts (the same binary ran 7 % faster from /tmp than from a worktree's
.build/release, a symlinked path). Prints the median and p90 of each verb per build and the
ratio NEW/OLD."""
import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = {
    "cniVersion": "1.0.0", "name": "cmp-net", "type": "portmap",
    "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]},
    "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/pod"}],
                   "ips": [{"address": "10.88.0.5/24", "interface": 0}]},
}


def run(plugin, command, stdin=b""):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "cmp-1", "CNI_NETNS": "/var/run/netns/pod",
           "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin"}
    start = time.perf_counter()
    result = subprocess.run([plugin], input=stdin, env=env, capture_output=True)
    elapsed = (time.perf_counter() - start) * 1000
    if result.returncode != 0:
        sys.exit(f"{plugin} {command} failed: {result.stdout.decode()}{result.stderr.decode()}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    copies = tempfile.mkdtemp(prefix="pmcmp-")
    for build in ("old", "new"):
        shutil.copy2(getattr(args, build), f"{copies}/{build}")
        setattr(args, build, f"{copies}/{build}")
    name = f"pmcmp-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        # The pod's subnet on a link of the node, so ADD's route lookup for route_localnet finds it.
        for command in (["link", "set", "lo", "up"], ["link", "add", "cmp0", "type", "veth", "peer", "name", "cmp1"],
                        ["addr", "add", "10.88.0.1/24", "dev", "cmp0"], ["link", "set", "cmp0", "up"], ["link", "set", "cmp1", "up"]):
            subprocess.run(["ip", "-n", name] + command, check=True)
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{name}") as namespace:
            if libc.setns(namespace.fileno(), 0x40000000) != 0:  # CLONE_NEWNET
                sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")
        stdin = json.dumps(CONFIG).encode()
        times = {(build, verb): [] for build in ("old", "new") for verb in ("VERSION", "ADD", "DEL")}
        for index in range(args.runs):
            order = [("old", args.old), ("new", args.new)]
            if index % 2:
                order.reverse()
            for build, plugin in order:
                times[(build, "VERSION")].append(run(plugin, "VERSION"))
                times[(build, "ADD")].append(run(plugin, "ADD", stdin))
                times[(build, "DEL")].append(run(plugin, "DEL", stdin))
        print(f"{args.runs} runs each, alternating; ms from spawn to exit")
        print("| verb | old median / p90 | new median / p90 | new/old median |")
        print("|---|---|---|---|")
        for verb in ("VERSION", "ADD", "DEL"):
            figures = {}
            for build in ("old", "new"):
                values = sorted(times[(build, verb)])
                figures[build] = (statistics.median(values), values[int(len(values) * 0.9)])
            (om, op), (nm, np) = figures["old"], figures["new"]
            print(f"| {verb} | {om:.2f} / {op:.2f} | {nm:.2f} / {np:.2f} | {nm / om:.3f} |")
    finally:
        subprocess.run(["ip", "netns", "del", name])
        shutil.rmtree(copies)


if __name__ == "__main__":
    main()
