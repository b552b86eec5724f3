#!/usr/bin/env bash
# `hostports` against the real forwarders Debian 12 ships: podman 4.3 with netavark 1.4 (its
# iptables driver) and Docker 20.10 (docker.io, its bridge driver), each publishing ports inside a
# node network namespace, and what `hostports list --json` says about them checked against what
# the runtimes say (podman inspect, docker inspect) and against real traffic. On a Debian 12
# machine, as root:
#   scripts/runtime-test-forwarders.sh        (HOSTPORTS=path: that binary instead of a debug build)
# Installs what it needs (lib.sh's packages, podman, runc, conmon, netavark, busybox-static,
# docker.io with containerd and tini) with a policy-rc.d that denies every start, so the machine's
# own dockerd and containerd are never started (a dockerd in the machine's namespace would rewrite
# its iptables); it checks that none was started and that the machine's own tables are unchanged.
# Then, all in namespaces and directories of its own:
#   fwt-client 192.0.2.10, 2001:db8:1::10  --veth--  fwt-node 192.0.2.1 + .2, 2001:db8:1::1 + ::2
# podman (netavark backend; containers.conf, storage, run root, network config dir all in the run's
# temp dir) and a containerd + dockerd of the run's own (data root, exec root, socket, pid file,
# bridge docker0 10.89.8.1/24, all in the temp dir) run inside fwt-node, entered with nsenter --net:
# `ip netns exec` also remounts /sys, hiding the cgroup v1 hierarchies (dockerd under it exits with
# "failed to start daemon: Devices cgroup isn't mounted"); hostports itself runs under
# `ip netns exec fwt-node`, as an operator would run it. dockerd keeps Debian's defaults otherwise
# (userland proxy on, no ip6tables). The image is busybox-static plus a static UDP responder,
# imported with `podman import` and `docker import` (no registry). Containers:
#   podman fwt-pa  network fwt-pod (10.89.7.0/24)          tcp 8080->80, udp 8053->81
#   podman fwt-pb  network fwt-pod                          tcp 192.0.2.1:8443->80
#   podman fwt-pc  network fwt-pod6 (10.89.9.0/24 + 2001:db8:89:9::/64)  tcp 8081->80 (both families)
#   docker fwt-da  bridge docker0 (10.89.8.0/24)            tcp 9090->80, udp 9053->81
#   docker fwt-db  bridge docker0                            tcp 192.0.2.1:9443->80
# Checks: each published port is exactly one row of `hostports list --json` with the right owner
# (netavark / docker), protocol, family, hostIP, hostPort, podIP and podPort (from the runtimes'
# inspect), store (the system iptables' variant: iptables-nft on Debian 12) and reachable; netavark's
# rows carry the network and the full container ID; no other row is listed. Every port answers the
# client through the node's address with its container's name and the client's own address (so the
# DNAT forwarded it, not docker-proxy or conmon), bound ports not on the node's other address, and
# the DNAT rule each row names counted those packets. `hostports conflicts --json` exits 0 or 1 and
# lists no duplicate-claim; `hostports metrics` counts the rows per owner and passes
# `promtool check metrics`; `hostports explain` follows a netavark and a Docker port to their
# containers; list, conflicts, metrics and explain leave every table of the node as it was.
# Prints PASS/FAIL per check and "N passed, M failed"; exits non-zero if any check fails. Everything
# it creates is removed on exit (and leftovers of an interrupted run first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

readonly NODE=fwt-node CLIENT=fwt-client
readonly NODE_V4=192.0.2.1 NODE_V4_SECOND=192.0.2.2 CLIENT_V4=192.0.2.10
readonly NODE_V6=2001:db8:1::1 NODE_V6_SECOND=2001:db8:1::2 CLIENT_V6=2001:db8:1::10
readonly POD_NET=fwt-pod POD_SUBNET=10.89.7.0/24
readonly POD6_NET=fwt-pod6 POD6_SUBNET_V4=10.89.9.0/24 POD6_SUBNET_V6=2001:db8:89:9::/64
readonly DOCKER_BIP=10.89.8.1/24
readonly PODMAN_IMAGE=localhost/fwt-busybox:latest DOCKER_IMAGE=fwt-busybox:latest
# Debian's docker CLI (another docker may come first in PATH, e.g. /usr/local/bin).
readonly DOCKER=/usr/bin/docker
readonly PODMAN_CGROUP=fwt-podman DOCKER_CGROUP=fwt-docker
# Short: dockerd and containerd put unix sockets below it (108-byte limit).
readonly WORK_PREFIX=fwt.
readonly PYTHON=/usr/bin/python3
readonly POLICY=/usr/sbin/policy-rc.d
# Podman 4.3 keeps netavark's IPAM database in this fixed directory (not below its run root).
readonly NETAVARK_RUN_DIR=/run/containers/networks

if [ "$(id -u)" != 0 ]; then
    log "scripts/runtime-test-forwarders.sh must run as root (namespaces, podman, dockerd)"
    exit 1
fi
# One run at a time: the namespace names are fixed. The lock is this file, held on fd 9, which
# every long-lived process below closes.
exec 9<scripts/runtime-test-forwarders.sh
if ! flock -n 9; then
    log "another scripts/runtime-test-forwarders.sh is running"
    exit 1
fi

work=""
own_policy=0

# ---------------------------------------------------------------------------------------------
# Cleanup: of this run's temp dir (the EXIT trap) or an interrupted run's (at the start).

# kill_recorded FILE DIR: the process whose pid FILE holds, if its command line names DIR (a pid
# file outliving its process may name another one by now); TERM, then KILL after 15 s.
kill_recorded() {
    local pid _
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2" || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

# The processes whose command line names DIR (conmon, containerd's shims, a dockerd or containerd
# left by an interrupted run), and docker-proxy processes recorded as our dockerd's children.
processes_of() {
    local dir=$1 pid
    pgrep -f -- "$dir/" || true
    if [ -f "$dir/docker-proxies" ]; then
        while read -r pid; do
            [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = docker-proxy ] && echo "$pid"
        done <"$dir/docker-proxies"
    fi
    return 0
}

cleanup_workdir() {
    local dir=$1 pid path mnt id
    [ -d "$dir" ] || return 0
    if [ -f "$dir/containers.conf" ] && [ -e "/run/netns/$NODE" ] && command -v podman >/dev/null; then
        pm_in "$dir" rm --all --force --time 0 >/dev/null 2>&1 || true
        pm_in "$dir" network rm --force "$POD_NET" "$POD6_NET" >/dev/null 2>&1 || true
    fi
    if [ -S "$dir/docker.sock" ]; then
        dk_in "$dir" ps --all --quiet 2>/dev/null | while read -r id; do
            dk_in "$dir" rm --force --volumes "$id" >/dev/null 2>&1 || true
        done
    fi
    kill_recorded "$dir/docker.pid" "$dir"
    kill_recorded "$dir/containerd.pid" "$dir"
    for pid in $(processes_of "$dir"); do kill -9 "$pid" 2>/dev/null || true; done
    # Podman's container network namespaces (/run/netns/netns-<uuid>) and runc states (/run/runc/<id>).
    if [ -f "$dir/sandboxes" ]; then
        while read -r path; do
            [ -e "$path" ] || continue
            umount "$path" 2>/dev/null || true
            rm -f "$path"
        done <"$dir/sandboxes"
    fi
    if [ -f "$dir/podman-ids" ]; then
        while read -r id; do
            [ -n "$id" ] && [ -d "/run/runc/$id" ] && { runc delete --force "$id" >/dev/null 2>&1 || rm -rf "/run/runc/$id"; }
        done <"$dir/podman-ids"
    fi
    # Anything still mounted below the dir (docker's netns and shm mounts, podman's shm).
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done
    # A shim killed before containerd removed it leaves its socket in /run/containerd/s.
    for path in "$dir"/containerd/state/io.containerd.runtime.v2.task/*/*/address; do
        [ -f "$path" ] && rm -f "$(sed 's#^unix://##' "$path")"
    done
    # The machine's directories the run created (markers written at its start).
    if [ -f "$dir/created-run-docker" ]; then
        rmdir /run/docker/plugins /run/docker 2>/dev/null || true
    fi
    if [ -f "$dir/created-netavark-run-dir" ]; then
        rm -rf "$NETAVARK_RUN_DIR"
        rmdir /run/containers 2>/dev/null || true
    fi
    if [ -f "$dir/created-run-containerd" ]; then
        rmdir /run/containerd/s /run/containerd 2>/dev/null || true
    fi
    remove_podman_machine_files "$dir"
    rm -rf "$dir"
}

teardown() {
    local dir
    for dir in "${TMPDIR:-/tmp}/$WORK_PREFIX"*; do
        [ -d "$dir" ] && [ -f "$dir/.fwt-run" ] && cleanup_workdir "$dir"
    done
    delete_namespaces fwt-
    remove_cgroups "$PODMAN_CGROUP" "$DOCKER_CGROUP"
}

cleanup() {
    local status=$?
    set +e
    trap - EXIT
    log "cleaning up"
    teardown
    if [ "$own_policy" = 1 ]; then rm -f "$POLICY"; fi
    exit "$status"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Packages. lib.sh's install_packages (apt-get update, the build and test packages, prometheus for
# promtool) runs first; then the runtimes, with every service start denied.

# The machine's own dockerd and containerd, one pid a line: those init or systemd runs (parent pid 1;
# a test's containerd, ours or another script's, is its script's child).
machine_daemons() {
    local pid
    for pid in $(pgrep -x dockerd; pgrep -x containerd); do
        [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = 1 ] && echo "$pid"
    done
    return 0
}
active_units() {   # the docker/containerd units systemd runs (nothing without systemd)
    [ -d /run/systemd/system ] || return 0
    systemctl is-active docker.socket docker.service containerd.service 2>/dev/null | paste -sd' ' || true
}

install_runtime_packages() {
    # podman (conmon, containers-common), runc, netavark (its default iptables driver), busybox-static
    # for the image; docker.io brings containerd and tini.
    local packages=(podman runc conmon golang-github-containers-common netavark busybox-static docker.io containerd tini)
    log "installing Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY" && own_policy=1
    fi
    local status=0
    if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null || status=$?
    fi
    if [ "$own_policy" = 1 ]; then rm -f "$POLICY" && own_policy=0; fi
    return "$status"
}

# The machine's own tables, counters and comments dropped (what a dockerd started there would change).
strip_counters() { sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//g' -e 's/counter packets [0-9]* bytes [0-9]*//g'; }
machine_tables() {
    local save
    for save in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
        echo "== $save"
        "$save" 2>/dev/null | strip_counters || true
    done
    echo "== nft"
    nft list ruleset 2>/dev/null | strip_counters || true
}

# ---------------------------------------------------------------------------------------------
# The runtimes, each with the run's dir only, in the node's network namespace.

pm_in() {   # pm_in WORKDIR ARGS...: podman with WORKDIR's config, netavark backend
    local dir=$1
    shift
    podman_in "$NODE" "$dir" --network-backend netavark --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs "$@"
}
pm() { pm_in "$work" "$@"; }
dk_in() {   # dk_in WORKDIR ARGS...: Debian's docker CLI talking to WORKDIR's dockerd
    local dir=$1
    shift
    timeout 120 env DOCKER_HOST="unix://$dir/docker.sock" DOCKER_CONFIG="$dir/docker-cli" "$DOCKER" "$@" 9<&-
}
dk() { dk_in "$work" "$@"; }

in_node() { nsenter --net="/run/netns/$NODE" "$@" 9<&-; }
in_client() { ip netns exec "$CLIENT" "$@" 9<&-; }
hostports() { ip netns exec "$NODE" "$work/hostports" "$@" 9<&-; }

write_podman_config() {
    mkdir -p "$work"/{podman-networks,storage,run,tmp}
    write_podman_conf "$work" 'network_backend = "netavark"' "network_config_dir = \"$work/podman-networks\""
}

# containerd (its own root, state, sockets; no CRI plugin) and dockerd using it.
start_docker() {
    local _
    mkdir -p "$work"/containerd/{root,state,opt} "$work"/{docker,dx,docker-cli}
    cat >"$work/containerd/config.toml" <<EOF
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$work/containerd/containerd.sock"
[ttrpc]
  address = "$work/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/containerd/opt"
EOF
    # dockerd 20.10 writes its trust key to /etc/docker/key.json unless told otherwise (no flag for it).
    printf '{"deprecated-key-path": "%s"}\n' "$work/docker-key.json" >"$work/daemon.json"
    # nsenter execs the daemon: $! is its pid.
    nsenter --net="/run/netns/$NODE" containerd --config "$work/containerd/config.toml" >"$work/containerd.log" 2>&1 9<&- &
    echo $! >"$work/containerd.pid"
    for _ in $(seq 100); do [ -S "$work/containerd/containerd.sock" ] && break; sleep 0.1; done
    [ -S "$work/containerd/containerd.sock" ] || { log "containerd did not start:"; tail -5 "$work/containerd.log" >&2; return 1; }
    nsenter --net="/run/netns/$NODE" dockerd --config-file "$work/daemon.json" --data-root "$work/docker" --exec-root "$work/dx" \
        --pidfile "$work/docker.pid" -H "unix://$work/docker.sock" --containerd "$work/containerd/containerd.sock" \
        --bip "$DOCKER_BIP" --iptables=true --ip-masq=true --userland-proxy=true --storage-driver vfs \
        --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$DOCKER_CGROUP" --default-ulimit nofile=1024:1024 \
        --log-level warn >"$work/dockerd.log" 2>&1 9<&- &
    for _ in $(seq 150); do dk version >/dev/null 2>&1 && return 0; sleep 0.2; done
    log "dockerd did not start:"
    tail -20 "$work/dockerd.log" >&2
    return 1
}


# ---------------------------------------------------------------------------------------------
# Containers, probes, and what the checks compare.

check() {   # check WHAT COMMAND...: PASS if COMMAND succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
quiet() { "$@" >/dev/null; }
bridge_in_node_only() { ip -n "$NODE" link show "$1" >/dev/null 2>&1 && ! ip link show "$1" >/dev/null 2>&1; }
promtool_accepts() {
    local output
    output=$(promtool check metrics <"$1" 2>&1) || { log "promtool: $output"; return 1; }
    [ -z "$output" ] || log "promtool: $output"
}

# probe NS PROTO HOST PORT [probe.py options]: one bounded request; prints the answer.
probe() {
    local runner=in_client
    [ "$1" = node ] && runner=in_node
    "$runner" timeout 10 "$PYTHON" "$PWD/scripts/probe.py" "$2" "$3" "$4" /cgi-bin/hello "${@:5}"
}
expect_answer() {   # expect_answer WHAT PROTO HOST PORT NAME: answered by NAME, which saw the client's address
    local answer client=$CLIENT_V4
    [[ $3 == *:* ]] && client=$CLIENT_V6
    if answer=$(probe client "$2" "$3" "$4") && [[ $answer == *"hello from $5 "*"$client"* ]]; then
        pass "$1 -> $answer"
    else
        fail "$1: expected $5 to answer and see $client, got: ${answer:-nothing}"
    fi
}
expect_no_answer() {   # expect_no_answer WHAT PROTO HOST PORT
    local answer
    if answer=$(probe client "$2" "$3" "$4" --tries 1 --timeout 1); then
        fail "$1: answered: $answer"
    else
        pass "$1 -> ${answer:-no answer}"
    fi
}
explain_follows() {   # explain_follows WHAT TARGET OWNER POD: explain's dnat step is OWNER's rule, the verdict POD
    local output
    if output=$(hostports explain "$2" 2>&1) && grep -Eq "^dnat +ok .*, $3, " <<<"$output" \
        && grep -q "^answers: taken by .*: reaches $4\$" <<<"$output"; then
        pass "$1"
    else
        fail "$1: $output"
    fi
}
wait_ready() {   # wait_ready ADDRESS: HTTP and UDP answer on the container's own address, 15 s at most
    local deadline=$((SECONDS + 15))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if probe node http "$1" 80 >/dev/null 2>&1 && probe node udp "$1" 81 >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    log "$1 does not answer on tcp 80 and udp 81"
    return 1
}

declare -A ids=() ips=() ip6s=()
run_podman() {   # run_podman NAME NETWORK PODMAN-RUN-ARGS...
    local name=$1 network=$2
    shift 2
    pm run --detach --name "$name" --network "$network" --cgroup-parent "/$PODMAN_CGROUP" --stop-signal KILL \
        "$@" "$PODMAN_IMAGE" /bin/serve "$name" >/dev/null || return 1
    ids[$name]=$(pm inspect --format '{{.Id}}' "$name") || return 1
    echo "${ids[$name]}" >>"$work/podman-ids"
    pm inspect --format '{{.NetworkSettings.SandboxKey}}' "$name" >>"$work/sandboxes" || true
    ips[$name]=$(pm inspect --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$name") || return 1
    ip6s[$name]=$(pm inspect --format "{{(index .NetworkSettings.Networks \"$network\").GlobalIPv6Address}}" "$name") || return 1
    wait_ready "${ips[$name]}"
}
run_docker() {   # run_docker NAME DOCKER-RUN-ARGS...
    local name=$1
    shift
    dk run --detach --name "$name" "$@" "$DOCKER_IMAGE" /bin/serve "$name" >/dev/null || return 1
    ids[$name]=$(dk inspect --format '{{.Id}}' "$name") || return 1
    ips[$name]=$(dk inspect --format '{{.NetworkSettings.IPAddress}}' "$name") || return 1
    wait_ready "${ips[$name]}"
}

# The mappings the runtimes made, one a line: LABEL OWNER PROTO FAMILY HOSTIP|* HOSTPORT PODIP PODPORT ID NETWORK|-
expect() { printf '%s\n' "$*" >>"$work/expected"; }

# The node's tables (every store), counters dropped: what hostports must leave as they were.
node_tables() {
    local save
    for save in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
        echo "== $save"
        in_node "$save" 2>/dev/null | strip_counters || true
    done
    echo "== nft"
    in_node nft list ruleset 2>/dev/null | strip_counters || true
}

# The checks of hostports' JSON, in Python: each prints "PASS<TAB>what" or "FAIL<TAB>what" lines.
write_checker() {
    cat >"$work/check.py" <<'PY'
import json, re, sys

def load_expected(path):
    rows = []
    for line in open(path):
        label, owner, proto, family, host_ip, host_port, pod_ip, pod_port, cid, network = line.split()
        rows.append(dict(label=label, owner=owner, protocol=proto, family=family,
                         hostIP=None if host_ip == "*" else host_ip, hostPort=int(host_port),
                         podIP=pod_ip, podPort=int(pod_port), containerID=cid,
                         network=None if network == "-" else network))
    return rows

def key(row):
    return (row["protocol"], row["family"], row["hostIP"], row["hostPort"])

def where(row):
    return f'{row["protocol"]} {row["hostIP"] or "*"}:{row["hostPort"]} ({row["family"]})'

def result(ok, text):
    print(("PASS" if ok else "FAIL") + "\t" + text)

def check_list(listing, expected_path, store):
    mappings = json.load(open(listing))["mappings"]
    expected = load_expected(expected_path)
    for want in expected:
        rows = [m for m in mappings if key(m) == key(want)]
        if len(rows) != 1:
            result(False, f'{want["label"]} {where(want)}: {len(rows)} rows, expected exactly one: {rows}')
            continue
        got = rows[0]
        wrong = []
        for field, value in (("owner", want["owner"]), ("podIP", want["podIP"]), ("podPort", want["podPort"]),
                             ("store", store), ("table", "nat"), ("reachable", True)):
            if got.get(field) != value:
                wrong.append(f"{field} {got.get(field)!r} (expected {value!r})")
        if want["owner"] == "netavark":
            for field in ("containerID", "network"):
                if got.get(field) != want[field]:
                    wrong.append(f"{field} {got.get(field)!r} (expected {want[field]!r})")
        elif got.get("containerID") not in (None, want["containerID"]):
            wrong.append(f'containerID {got.get("containerID")!r} (expected null or {want["containerID"]!r})')
        named = f', container {got["containerID"][:12]}, network {got["network"]}' if got.get("containerID") else ""
        text = (f'{want["label"]}: one row {got["owner"]} {where(got)} -> {got["podIP"]}:{got["podPort"]}'
                f'{named}, {got["store"]} {got["table"]} {got["chain"]}, reachable={str(got["reachable"]).lower()}')
        result(not wrong, text + ("" if not wrong else ": wrong " + "; ".join(wrong)))
    extra = [m for m in mappings if key(m) not in {key(w) for w in expected}]
    result(len(mappings) == len(expected) and not extra,
           f"{len(mappings)} rows in all, {len(expected)} expected" + (f", unexpected: {extra}" if extra else ""))

def check_counters(listing, expected_path, nat_v4, nat_v6):
    # iptables-save -c lines: "[packets:bytes] -A CHAIN ...": the DNAT rule each row names must have counted.
    counted = {}
    for family, path in (("ipv4", nat_v4), ("ipv6", nat_v6)):
        for line in open(path):
            match = re.match(r"^\[(\d+):\d+\] (-A .*)$", line.rstrip("\n"))
            if match:
                counted[(family, match.group(2))] = int(match.group(1))
    mappings = json.load(open(listing))["mappings"]
    for want in load_expected(expected_path):
        rows = [m for m in mappings if key(m) == key(want)]
        if len(rows) != 1:
            result(False, f'{want["label"]} {where(want)}: no single row to follow')
            continue
        packets = counted.get((want["family"], rows[0]["rule"]))
        result(bool(packets), f'{want["label"]} {where(want)}: the rule hostports names, "{rows[0]["rule"]}", '
               + (f"counted {packets} packets" if packets is not None else "is not in the nat table"))

def check_conflicts(path):
    conflicts = json.load(open(path))["conflicts"]
    duplicates = [c["message"] for c in conflicts if c["kind"] == "duplicate-claim"]
    kinds = sorted({c["kind"] for c in conflicts})
    result(not duplicates, f'no duplicate-claim among the forwarders ({len(conflicts)} findings{": " + ", ".join(kinds) if kinds else ""})'
           + ("" if not duplicates else f": {duplicates}"))

def check_metrics(path, expected_path, store):
    values = {}
    for line in open(path):
        match = re.match(r'^hostports_mappings\{(.*)\} (\S+)$', line.strip())
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            values[(labels.get("owner"), labels.get("store"), labels.get("family"))] = float(match.group(2))
    wanted = {}
    for want in load_expected(expected_path):
        group = (want["owner"], store, want["family"])
        wanted[group] = wanted.get(group, 0) + 1
    for group, count in sorted(wanted.items()):
        result(values.get(group) == count, f'hostports_mappings{{owner="{group[0]}",store="{group[1]}",family="{group[2]}"}} '
               f'is {values.get(group)}, expected {count}')
    others = {g: v for g, v in values.items() if g not in wanted and v}
    result(not others, "no other owner, store or family counts a mapping" + (f": {others}" if others else ""))

mode = sys.argv[1]
{"list": check_list, "counters": check_counters, "conflicts": check_conflicts, "metrics": check_metrics}[mode](*sys.argv[2:])
PY
}
report() {   # report ARGS...: the checker's verdicts as PASS/FAIL lines (a crash of it is a FAIL)
    local verdict text output
    if ! output=$("$PYTHON" "$work/check.py" "$@" 2>&1); then
        fail "checker $1 failed: $output"
        return
    fi
    while IFS=$'\t' read -r verdict text; do
        if [ "$verdict" = PASS ]; then pass "$text"; else fail "$text"; fi
    done <<<"$output"
}

# ---------------------------------------------------------------------------------------------
# 1. Packages, leftovers, the binary, files.

started=$SECONDS
tables_before_install=$(machine_tables)
policy_before=$(cat "$POLICY" 2>/dev/null || echo absent)
daemons_before=$(machine_daemons)
units_before=$(active_units)
install_packages
install_runtime_packages
use_swift
teardown   # an interrupted run's leftovers

echo "installation"
started_daemons=$(comm -13 <(sort <<<"$daemons_before") <(machine_daemons | sort))
units_after=$(active_units)
if [ -z "$started_daemons" ] && [ "$units_after" = "$units_before" ]; then
    pass "installing docker.io, containerd and podman started no dockerd or containerd on the machine"
else
    fail "the installation started daemons on the machine: pids ${started_daemons//$'\n'/ } (units: $units_after): stopping them"
    if [ -d /run/systemd/system ]; then systemctl stop docker.socket docker.service containerd.service 2>/dev/null || true; fi
    for pid in $started_daemons; do kill "$pid" 2>/dev/null || true; done
fi
tables_after_install=$(machine_tables)
check "the machine's own iptables and nftables rules are unchanged by the installation" \
    test "$tables_after_install" = "$tables_before_install"
check "$POLICY is as before the installation (ours removed, or the machine's kept)" \
    test "$(cat "$POLICY" 2>/dev/null || echo absent)" = "$policy_before"

work=$(mktemp -d "${TMPDIR:-/tmp}/${WORK_PREFIX}XXXXXX")
touch "$work/.fwt-run"
[ -d /run/docker ] || touch "$work/created-run-docker"
[ -d "$NETAVARK_RUN_DIR" ] || touch "$work/created-netavark-run-dir"
[ -d /run/containerd ] || touch "$work/created-run-containerd"
note_podman_machine_files "$work"

if [ -n "${HOSTPORTS:-}" ]; then
    binary=$HOSTPORTS
else
    log "building hostports (debug)"
    swift build --product hostports 9<&-
    binary=.build/debug/hostports
fi
# A copy: a concurrent rebuild cannot change the binary under the run.
install -m 0755 "$binary" "$work/hostports"
if [[ $(readlink -f /usr/sbin/iptables) == *nft* ]]; then STORE=iptables-nft; else STORE=iptables-legacy; fi
readonly STORE
write_podman_config
write_checker
build_image_tar "$work"

# ---------------------------------------------------------------------------------------------
# 2. Namespaces, the runtimes, the containers.

log "creating namespaces $NODE and $CLIENT"
create_node_and_client fwt

echo "podman (netavark) in $NODE"
check "podman uses the netavark network backend" test "$(pm info --format '{{.Host.NetworkBackend}}')" = netavark
check "podman's storage is the run's own ($work/storage, vfs)" \
    test "$(pm info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}')" = "$work/storage vfs"
check "podman import of the image" quiet pm import --quiet "$work/image.tar" "$PODMAN_IMAGE"
check "podman network create $POD_NET ($POD_SUBNET)" quiet pm network create --disable-dns --subnet "$POD_SUBNET" "$POD_NET"
check "podman network create $POD6_NET ($POD6_SUBNET_V4, $POD6_SUBNET_V6)" \
    quiet pm network create --disable-dns --subnet "$POD6_SUBNET_V4" --subnet "$POD6_SUBNET_V6" "$POD6_NET"
check "podman run fwt-pa -p 8080:80 -p 8053:81/udp: up and serving" run_podman fwt-pa "$POD_NET" -p 8080:80 -p 8053:81/udp
check "podman run fwt-pb -p $NODE_V4:8443:80: up and serving" run_podman fwt-pb "$POD_NET" -p "$NODE_V4:8443:80"
check "podman run fwt-pc -p 8081:80 on the dual-stack $POD6_NET: up and serving" run_podman fwt-pc "$POD6_NET" -p 8081:80
check "fwt-pc has an IPv6 address in $POD6_SUBNET_V6" test -n "${ip6s[fwt-pc]:-}"
pm ps --all --format '    {{.Names}} {{.Status}} {{.Ports}}' || true

echo "docker in $NODE"
log "starting containerd and dockerd in $NODE"
if check "containerd and dockerd (data root, exec root, socket in $work) start in $NODE" start_docker; then
    log "docker $(dk version --format '{{.Server.Version}}' || true), containerd $(containerd --version | awk '{print $3}')"
    check "docker import of the image" quiet dk import "$work/image.tar" "$DOCKER_IMAGE"
    check "docker run fwt-da -p 9090:80 -p 9053:81/udp: up and serving" run_docker fwt-da -p 9090:80 -p 9053:81/udp
    check "docker run fwt-db -p $NODE_V4:9443:80: up and serving" run_docker fwt-db -p "$NODE_V4:9443:80"
    # docker-proxy processes are dockerd's children: recorded for the cleanup.
    pgrep -P "$(cat "$work/docker.pid")" -x docker-proxy >"$work/docker-proxies" || true
    dk ps --all --format '{{.Names}} {{.Status}} {{.Ports}}' | sed 's/^/    /' || true
    check "docker's bridge docker0 is in $NODE, not in the machine's namespace" bridge_in_node_only docker0
    docker_up=1
else
    docker_up=0
fi

: >"$work/expected"
expect fwt-pa netavark tcp ipv4 '*' 8080 "${ips[fwt-pa]:-?}" 80 "${ids[fwt-pa]:-?}" "$POD_NET"
expect fwt-pa netavark udp ipv4 '*' 8053 "${ips[fwt-pa]:-?}" 81 "${ids[fwt-pa]:-?}" "$POD_NET"
expect fwt-pb netavark tcp ipv4 "$NODE_V4" 8443 "${ips[fwt-pb]:-?}" 80 "${ids[fwt-pb]:-?}" "$POD_NET"
expect fwt-pc netavark tcp ipv4 '*' 8081 "${ips[fwt-pc]:-?}" 80 "${ids[fwt-pc]:-?}" "$POD6_NET"
expect fwt-pc netavark tcp ipv6 '*' 8081 "${ip6s[fwt-pc]:-?}" 80 "${ids[fwt-pc]:-?}" "$POD6_NET"
if [ "$docker_up" = 1 ]; then
    expect fwt-da docker tcp ipv4 '*' 9090 "${ips[fwt-da]:-?}" 80 "${ids[fwt-da]:-?}" -
    expect fwt-da docker udp ipv4 '*' 9053 "${ips[fwt-da]:-?}" 81 "${ids[fwt-da]:-?}" -
    expect fwt-db docker tcp ipv4 "$NODE_V4" 9443 "${ips[fwt-db]:-?}" 80 "${ids[fwt-db]:-?}" -
fi

# ---------------------------------------------------------------------------------------------
# 3. hostports: list, conflicts, metrics; the node's tables before and after.

echo "hostports list (store $STORE)"
tables_before=$(node_tables)
if hostports list --json >"$work/list.json" 2>"$work/list.err"; then
    pass "hostports list --json exits 0"
else
    fail "hostports list --json failed: $(cat "$work/list.err")"
    echo '{"mappings": []}' >"$work/list.json"
fi
report list "$work/list.json" "$work/expected" "$STORE"
log "hostports list in $NODE"
hostports list 2>&1 | sed 's/^/    /' || true

echo "hostports conflicts, metrics"
status=0
hostports conflicts --json >"$work/conflicts.json" 2>"$work/conflicts.err" || status=$?
if [ "$status" = 0 ] || [ "$status" = 1 ]; then
    pass "hostports conflicts --json exits $status (0: no findings, 1: findings)"
    report conflicts "$work/conflicts.json"
else
    fail "hostports conflicts --json exits $status: $(cat "$work/conflicts.err")"
fi
hostports conflicts 2>&1 | sed 's/^/    /' || true
if hostports metrics >"$work/metrics.txt" 2>"$work/metrics.err"; then
    pass "hostports metrics exits 0"
    report metrics "$work/metrics.txt" "$work/expected" "$STORE"
    if command -v promtool >/dev/null; then
        check "promtool check metrics accepts hostports metrics" promtool_accepts "$work/metrics.txt"
    else
        log "promtool not installed: the metrics format is not checked"
    fi
else
    fail "hostports metrics failed: $(cat "$work/metrics.err")"
fi
explain_follows "hostports explain $NODE_V4:8080 follows netavark's DNAT to fwt-pa" "$NODE_V4:8080" netavark "${ips[fwt-pa]:-?}:80"
if [ "$docker_up" = 1 ]; then
    explain_follows "hostports explain $NODE_V4:9053/udp follows docker's DNAT to fwt-da" "$NODE_V4:9053/udp" docker "${ips[fwt-da]:-?}:81"
fi
tables_after=$(node_tables)
check "hostports list, conflicts, metrics and explain changed no table in $NODE (iptables-nft, iptables-legacy, nft; counters aside)" \
    test "$tables_after" = "$tables_before"

# ---------------------------------------------------------------------------------------------
# 4. Traffic: the client reaches each port through the node's address, the container seeing the
# client's own address (DNAT, not a proxy); then the DNAT rule of each row counted it.

echo "traffic from $CLIENT"
expect_answer "HTTP $NODE_V4:8080 reaches fwt-pa (netavark)" http "$NODE_V4" 8080 fwt-pa
expect_answer "HTTP $NODE_V4_SECOND:8080 reaches fwt-pa (no hostIP: every node address)" http "$NODE_V4_SECOND" 8080 fwt-pa
expect_answer "UDP  $NODE_V4:8053 reaches fwt-pa (netavark)" udp "$NODE_V4" 8053 fwt-pa
expect_answer "HTTP $NODE_V4:8443 reaches fwt-pb (netavark, hostIP $NODE_V4)" http "$NODE_V4" 8443 fwt-pb
expect_no_answer "HTTP $NODE_V4_SECOND:8443 does not reach fwt-pb (bound to $NODE_V4)" http "$NODE_V4_SECOND" 8443
expect_answer "HTTP $NODE_V4:8081 reaches fwt-pc (netavark, IPv4)" http "$NODE_V4" 8081 fwt-pc
expect_answer "HTTP [$NODE_V6]:8081 reaches fwt-pc (netavark, IPv6)" http "$NODE_V6" 8081 fwt-pc
if [ "$docker_up" = 1 ]; then
    expect_answer "HTTP $NODE_V4:9090 reaches fwt-da (docker)" http "$NODE_V4" 9090 fwt-da
    expect_answer "HTTP $NODE_V4_SECOND:9090 reaches fwt-da (no hostIP: every node address)" http "$NODE_V4_SECOND" 9090 fwt-da
    expect_answer "UDP  $NODE_V4:9053 reaches fwt-da (docker)" udp "$NODE_V4" 9053 fwt-da
    expect_answer "HTTP $NODE_V4:9443 reaches fwt-db (docker, hostIP $NODE_V4)" http "$NODE_V4" 9443 fwt-db
    expect_no_answer "HTTP $NODE_V4_SECOND:9443 does not reach fwt-db (bound to $NODE_V4)" http "$NODE_V4_SECOND" 9443
fi
in_node iptables-nft-save -c -t nat >"$work/nat-v4.counters" 2>/dev/null || true
in_node ip6tables-nft-save -c -t nat >"$work/nat-v6.counters" 2>/dev/null || true
if [ "$STORE" = iptables-legacy ]; then
    in_node iptables-legacy-save -c -t nat >"$work/nat-v4.counters" 2>/dev/null || true
    in_node ip6tables-legacy-save -c -t nat >"$work/nat-v6.counters" 2>/dev/null || true
fi
report counters "$work/list.json" "$work/expected" "$work/nat-v4.counters" "$work/nat-v6.counters"

# ---------------------------------------------------------------------------------------------
# 5. Teardown, and what it leaves behind.

echo "teardown"
check "podman rm --all --force" quiet pm rm --all --force --time 0
if [ "$docker_up" = 1 ]; then
    check "docker rm --force fwt-da fwt-db" quiet dk rm --force --volumes fwt-da fwt-db
fi
log "stopping dockerd and containerd, removing the namespaces and the run's directory"
dir=$work
sandboxes=$(sort -u "$dir/sandboxes" 2>/dev/null || true)
created=""   # the machine's directories this run created, gone after the teardown
[ ! -f "$dir/created-run-docker" ] || created+=" /run/docker"
[ ! -f "$dir/created-netavark-run-dir" ] || created+=" $NETAVARK_RUN_DIR"
[ ! -f "$dir/created-run-runc" ] || created+=" /run/runc"
[ ! -f "$dir/created-blob-info-cache" ] || created+=" /var/lib/containers/cache/blob-info-cache-v1.boltdb"
proxies=$(cat "$dir/docker-proxies" 2>/dev/null || true)
teardown
leftovers=()
[ ! -d "$dir" ] || leftovers+=("$dir")
left=$(pgrep -af -- "$dir/" || true)
[ -z "$left" ] || leftovers+=("processes: $left")
for pid in $proxies; do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != docker-proxy ] || leftovers+=("docker-proxy $pid")
done
namespaces=$(ip netns list | awk '$1 ~ /^fwt-/ { print $1 }')
[ -z "$namespaces" ] || leftovers+=("namespaces: $namespaces")
for path in $sandboxes; do
    [ ! -e "$path" ] || leftovers+=("container netns $path")
done
for id in "${ids[@]}"; do
    [ ! -e "/run/runc/$id" ] || leftovers+=("/run/runc/$id")
done
for path in $created; do
    [ ! -e "$path" ] || leftovers+=("$path")
done
compgen -G "/sys/fs/cgroup/*/$PODMAN_CGROUP" >/dev/null && leftovers+=("cgroups /sys/fs/cgroup/*/$PODMAN_CGROUP")
compgen -G "/sys/fs/cgroup/*/$DOCKER_CGROUP" >/dev/null && leftovers+=("cgroups /sys/fs/cgroup/*/$DOCKER_CGROUP")
if [ ${#leftovers[@]} = 0 ]; then
    pass "nothing left behind (processes, run dir, namespaces, container netns, runc states, cgroups, the machine's dirs)"
else
    fail "left behind: ${leftovers[*]}"
fi
check "the machine's own iptables and nftables rules are as before the run" test "$(machine_tables)" = "$tables_before_install"
check "no dockerd or containerd of the machine's was left running by the run" \
    test -z "$(comm -13 <(sort <<<"$daemons_before") <(machine_daemons | sort))"

echo
log "took $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
