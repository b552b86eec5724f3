#!/usr/bin/env python3
"""Runs a conflist's plugins for one pod the way libcni does, for scripts/demo.sh.

Each plugin gets the list's `name` and `cniVersion`, `runtimeConfig.portMappings` when it declares
the `portMappings` capability, and the previous plugin's result as `prevResult` (ADD); CHECK and
DEL give every plugin the cached result of the whole list. DEL runs the list in reverse. Every
plugin runs inside the node's network namespace (`ip netns exec NODE env -i ...`) with only the
CNI_* variables and PATH; CNI_NETNS names the pod's namespace.

Unlike libcni, DEL keeps going after a plugin fails (and then exits 1), so that a cleanup removes
as much as it can. Python 3 standard library only.

    cni_chain.py ADD   --conflist F --node NS --netns POD --container-id ID --bin-dir DIR
                       [--mappings JSON] [--bridge NAME] [--ipam-data-dir DIR] [--result FILE]
    cni_chain.py CHECK ... --result FILE      (the result ADD saved)
    cni_chain.py DEL   ... [--result FILE]    (without it, DEL runs without prevResult)
"""
import argparse
import json
import os
import subprocess
import sys

PLUGIN_TIMEOUT = 60  # seconds; a plugin that hangs longer is killed and counts as failed


def load_list(args):
    """The conflist, with the bridge name and host-local's dataDir overridden when asked, so a
    demo never shares a bridge or IPAM state with anything else on the machine."""
    with open(args.conflist) as handle:
        conflist = json.load(handle)
    for plugin in conflist["plugins"]:
        if plugin.get("type") == "bridge" and args.bridge:
            plugin["bridge"] = args.bridge
        ipam = plugin.get("ipam")
        if isinstance(ipam, dict) and ipam.get("type") == "host-local" and args.ipam_data_dir:
            ipam["dataDir"] = args.ipam_data_dir
    return conflist


def plugin_config(conflist, plugin, mappings, prev_result):
    """The stdin libcni builds for one plugin of the list."""
    config = dict(plugin)
    config["name"] = conflist["name"]
    config["cniVersion"] = conflist["cniVersion"]
    if plugin.get("capabilities", {}).get("portMappings"):
        config["runtimeConfig"] = {"portMappings": mappings}
    if prev_result is not None:
        config["prevResult"] = prev_result
    return json.dumps(config).encode()


def invoke(args, command, plugin, stdin):
    """Runs one plugin in the node namespace; returns (exit status, stdout, stderr)."""
    executable = os.path.join(args.bin_dir, plugin["type"])
    environment = [
        f"CNI_COMMAND={command}",
        f"CNI_CONTAINERID={args.container_id}",
        f"CNI_NETNS=/var/run/netns/{args.netns}",
        f"CNI_IFNAME={args.ifname}",
        f"CNI_PATH={args.bin_dir}",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    argv = ["ip", "netns", "exec", args.node, "env", "-i", *environment, executable]
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=PLUGIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {PLUGIN_TIMEOUT} s"
    return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")


def report(command, plugin, status, stdout, stderr):
    name = plugin["type"]
    if status == 0:
        print(f"    {name:<10} {command}: ok", file=sys.stderr)
        return
    print(f"    {name:<10} {command}: FAILED (exit {status})", file=sys.stderr)
    for text in (stdout.strip(), stderr.strip()):
        if text:
            print("      " + text.replace("\n", "\n      "), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["ADD", "CHECK", "DEL"])
    parser.add_argument("--conflist", required=True)
    parser.add_argument("--node", required=True, help="network namespace the plugins run in")
    parser.add_argument("--netns", required=True, help="the pod's network namespace (a name under /var/run/netns)")
    parser.add_argument("--container-id", required=True)
    parser.add_argument("--bin-dir", required=True, help="CNI_PATH: where the plugins are")
    parser.add_argument("--ifname", default="eth0")
    parser.add_argument("--mappings", default="[]", help="runtimeConfig.portMappings as JSON")
    parser.add_argument("--bridge", help="override the bridge plugin's bridge name")
    parser.add_argument("--ipam-data-dir", help="override host-local's dataDir")
    parser.add_argument("--result", help="where ADD saves the list's result; what CHECK and DEL read")
    args = parser.parse_args()

    conflist = load_list(args)
    mappings = json.loads(args.mappings)
    plugins = conflist["plugins"]

    if args.command == "ADD":
        result = None
        for plugin in plugins:
            status, stdout, stderr = invoke(args, "ADD", plugin, plugin_config(conflist, plugin, mappings, result))
            report("ADD", plugin, status, stdout, stderr)
            if status != 0:
                return 1
            result = json.loads(stdout)
        if args.result:
            with open(args.result, "w") as handle:
                json.dump(result, handle, indent=2)
        return 0

    cached = None
    if args.result and os.path.exists(args.result):
        with open(args.result) as handle:
            cached = json.load(handle)

    if args.command == "CHECK":
        if cached is None:
            print("CHECK needs the result ADD saved (--result)", file=sys.stderr)
            return 1
        for plugin in plugins:
            status, stdout, stderr = invoke(args, "CHECK", plugin, plugin_config(conflist, plugin, mappings, cached))
            report("CHECK", plugin, status, stdout, stderr)
            if status != 0:
                return 1
        return 0

    failed = False
    for plugin in reversed(plugins):
        status, stdout, stderr = invoke(args, "DEL", plugin, plugin_config(conflist, plugin, mappings, cached))
        report("DEL", plugin, status, stdout, stderr)
        failed = failed or status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
