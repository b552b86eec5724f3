#!/usr/bin/env bash
# Measures the read-only diagnostics command `hostports` on a busy node, as root:
#   scripts/bench-hostports.sh [--backends iptables,nftables] [--pods 1000] [--kube-proxy-rules 10000]
#                              [--runs 11] [--rss-runs 3] [--no-pod-netns]
#
# Target (informational): `hostports list` and `hostports conflicts` <= 0.3 s median on a node of
# 1000 pods and 10,000 kube-proxy rules.
#
# Makes a node network namespace hpb-<id>-node (deleted at exit, with everything in it): loopback,
# a veth pair with both ends in the node carrying 192.0.2.1/24 and 2001:db8::1/64 (the hostIP the
# pods' bound mapping uses), and a bridge cni0 with 10.88.0.1/16 and 2001:db8:89::1/64. Unless
# --no-pod-netns, every pod gets a namespace hpb-<id>-pod-<index> whose eth0 (a veth on cni0,
# hairpin on) holds its addresses, as the bridge plugin leaves them: hostports' route lookups,
# bridge-port reads and its walk over the node's namespaces (the pod-gone check) then have a real
# node's work. Without them the pod subnets are on the veth (as in scripts/bench.sh) and conflicts
# reports every pod as pod-gone.
#
# Then, per backend (the node's tables flushed between them with `nft flush ruleset`):
#  1. the kube-proxy iptables-mode rules (scripts/bench.py's generator: KUBE-SERVICES cluster-IP
#     rules, KUBE-NODEPORTS, KUBE-SVC-/KUBE-SEP-/KUBE-EXT- chains with DNATs to 10.244.x.x,
#     KUBE-MARK-MASQ, the "kubernetes service portals" jumps), written by python to a file and
#     loaded with `iptables-nft-restore --noflush` (Debian 12's iptables is iptables-nft); the
#     rule count read back must be --kube-proxy-rules;
#  2. --pods dual-stack pods ADDed by our plugin (scripts/bench.py's config: 4 mappings a pod, tcp
#     and udp on one host port, another tcp, one bound to 192.0.2.1: 7 DNAT mappings over both
#     families), run directly with a synthetic prevResult. `iptables`: the config has no backend
#     key, so the iptables backend chooses the store, iptables-nft beside kube-proxy's chains;
#     `nftables`: "backend": "nftables", its cni_portmaps tables beside kube-proxy's iptables-nft rules;
#  3. `hostports list --json` must list 7 mappings for each pod, all reachable, in that backend's
#     store; `conflicts --json` is run once and its findings counted by kind;
#  4. --runs rounds of `ip netns exec <node> hostports list`, `... list --json`, `... conflicts` and
#     `... /bin/true` (ip netns exec's own cost), order rotated each round, wall time around
#     posix_spawn + wait4, stdout into a file; then --rss-runs rounds under GNU time for the peak
#     RSS. `conflicts` may exit 1 (something found); any other non-zero exit is a failure.
# It prints the figures, then an entry for docs/benchmarks.md (date, commit, this command line,
# one row per backend and command). Exit status 1 for failures (an ADD, the listing's mappings, a
# hostports run exiting 2), not for a missed target. About 1 minute on 2 cores, with the build.
#
# Options (or environment):
#   --backends B1,B2        iptables and/or nftables (HPBENCH_BACKENDS, default iptables,nftables)
#   --pods N                pods on the node (HPBENCH_PODS, default 1000; <= 20000, bench.py's host ports)
#   --kube-proxy-rules K    kube-proxy-like IPv4 nat rules (HPBENCH_KUBE_PROXY_RULES, default 10000)
#   --runs R                timed runs of each command (HPBENCH_RUNS, default 11)
#   --rss-runs S            runs of each command under GNU time (HPBENCH_RSS_RUNS, default 3)
#   --no-pod-netns          no pod namespaces (HPBENCH_POD_NETNS=0)
#
# Environment:
#   PORTMAP_PLUGIN, HOSTPORTS   the binaries (default: build both release binaries, as scripts/bench.sh does)
#   HPBENCH_NO_INSTALL=1        skip installing the Debian packages
#   HPBENCH_RESULTS=DIR         keep the raw samples there (<backend>.json; `scripts/bench_hostports.py report --markdown DIR/*.json`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

command_line="scripts/bench-hostports.sh${*:+ $*}"
[ "${HPBENCH_NO_INSTALL:-}" != 1 ] || command_line="HPBENCH_NO_INSTALL=1 $command_line"
usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,3\}//' >&2; exit 2; }
backends=${HPBENCH_BACKENDS:-iptables,nftables}
pods=${HPBENCH_PODS:-1000}
kube_rules=${HPBENCH_KUBE_PROXY_RULES:-10000}
runs=${HPBENCH_RUNS:-11}
rss_runs=${HPBENCH_RSS_RUNS:-3}
pod_netns=${HPBENCH_POD_NETNS:-1}
while [ $# -gt 0 ]; do
    case $1 in
        --backends) backends=${2:?}; shift 2 ;;
        --pods) pods=${2:?}; shift 2 ;;
        --kube-proxy-rules) kube_rules=${2:?}; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --rss-runs) rss_runs=${2:?}; shift 2 ;;
        --no-pod-netns) pod_netns=0; shift ;;
        -h|--help) usage ;;
        *) log "unknown argument '$1'"; usage ;;
    esac
done
[[ $backends =~ ^(iptables|nftables)(,(iptables|nftables))*$ ]] || { log "--backends must be iptables and/or nftables, got '$backends'"; exit 2; }
IFS=, read -r -a backend_list <<<"$backends"
[ "$(printf '%s\n' "${backend_list[@]}" | sort -u | wc -l)" = "${#backend_list[@]}" ] || { log "--backends names a backend twice: $backends"; exit 2; }
[[ $pods =~ ^[0-9]+$ && $pods -ge 1 && $pods -le 20000 ]] || { log "--pods must be 1..20000, got '$pods'"; exit 2; }
[[ $kube_rules =~ ^[0-9]+$ && $kube_rules -le 200000 ]] || { log "--kube-proxy-rules must be 0..200000, got '$kube_rules'"; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 1000 ]] || { log "--runs must be 1..1000, got '$runs'"; exit 2; }
[[ $rss_runs =~ ^[0-9]+$ && $rss_runs -le 1000 ]] || { log "--rss-runs must be 0..1000, got '$rss_runs'"; exit 2; }
[[ $pod_netns =~ ^[01]$ ]] || { log "HPBENCH_POD_NETNS must be 0 or 1, got '$pod_netns'"; exit 2; }
if [ "$(id -u)" != 0 ]; then
    log "needs root (network namespaces, nat tables)"
    exit 1
fi

id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
prefix=hpb-$id
node=$prefix-node
workdir=$(mktemp -d "/tmp/hpbench-$id.XXXXXX")

# Every namespace of this run, found by its prefix (a failure half-way through pod-netns leaves
# some): one `ip -b` deletes them all, and with them their interfaces and tables.
cleanup() {
    local status=$?
    ip netns list | awk -v p="$prefix-" 'index($1, p) == 1 { print "netns del " $1 }' | ip -b - || log "could not delete the namespaces $prefix-*"
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT

if pgrep -f '\.ci/run' >/dev/null; then
    log "warning: a CI run (.ci/run) is going on: the figures will be noisy"
fi
if [ "${HPBENCH_NO_INSTALL:-}" != 1 ]; then
    install_packages
    if [ ! -x /usr/bin/time ]; then
        log "installing GNU time (peak RSS)"
        apt-get install -y -qq --no-install-recommends time >/dev/null
    fi
fi
for tool in /usr/sbin/ip /usr/sbin/nft /usr/sbin/iptables-nft-restore /usr/sbin/iptables-nft-save /usr/bin/python3 /usr/bin/time; do
    [ -x "$tool" ] || { log "missing $tool"; exit 1; }
done

if [ -n "${PORTMAP_PLUGIN:-}" ] || [ -n "${HOSTPORTS:-}" ]; then
    our_plugin=${PORTMAP_PLUGIN:?PORTMAP_PLUGIN and HOSTPORTS go together}
    hostports=${HOSTPORTS:?PORTMAP_PLUGIN and HOSTPORTS go together}
    for program in "$our_plugin" "$hostports"; do
        [ -x "$program" ] || { log "$program is not an executable"; exit 1; }
    done
else
    use_swift
    log "building the release binaries (portmap, hostports)"
    release_args=$(release_build_args)   # a failure stops the script here (set -e)
    mapfile -t build_args <<<"$release_args"
    swift build "${build_args[@]}" --product portmap
    swift build "${build_args[@]}" --product hostports
    bin=$(swift build "${build_args[@]}" --show-bin-path)
    our_plugin=$bin/portmap
    hostports=$bin/hostports
fi
our_plugin=$(realpath "$our_plugin")
hostports=$(realpath "$hostports")
commit=$(git rev-parse --short HEAD)
if [ -n "$(git status --porcelain -- Sources Package.swift Package.resolved)" ]; then
    commit="$commit (with uncommitted changes to Sources/ or Package.swift)"
fi

# The node: a veth pair with the node's addresses (the dummy driver is not always available), and
# the pods' bridge.
log "creating the node namespace $node"
ip netns add "$node"
ip -n "$node" link set lo up
ip netns exec "$node" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$node" link add hpb0 type veth peer name hpb1
ip -n "$node" addr add 192.0.2.1/24 dev hpb0
ip -n "$node" -6 addr add 2001:db8::1/64 dev hpb0 nodad
ip -n "$node" link set hpb1 up
ip -n "$node" link set hpb0 up
if [ "$pod_netns" = 1 ]; then
    ip -n "$node" link add cni0 type bridge
    ip -n "$node" addr add 10.88.0.1/16 dev cni0
    ip -n "$node" -6 addr add 2001:db8:89::1/64 dev cni0 nodad
    ip -n "$node" link set cni0 up
    log "creating $pods pod namespaces $prefix-pod-<index> on cni0"
    python3 scripts/bench_hostports.py pod-netns --node "$node" --prefix "$prefix-pod" --pods "$pods"
else
    ip -n "$node" addr add 10.88.0.1/16 dev hpb0
    ip -n "$node" -6 addr add 2001:db8:89::1/64 dev hpb0 nodad
fi

python3 scripts/bench_hostports.py kube-proxy --rules "$kube_rules" >"$workdir/kube-proxy.rules"
results=()
status=0
for backend in "${backend_list[@]}"; do
    ip netns exec "$node" nft flush ruleset
    log "$backend: loading $kube_rules kube-proxy rules (iptables-nft-restore --noflush)"
    ip netns exec "$node" iptables-nft-restore --noflush "$workdir/kube-proxy.rules"
    loaded=$(ip netns exec "$node" iptables-nft-save -t nat | grep -c '^-A ' || true)
    if [ "$loaded" != "$kube_rules" ]; then
        log "FAIL: iptables-nft-save lists $loaded nat rules after the restore, not $kube_rules"
        exit 1
    fi
    log "$backend: ADDing $pods pods with our plugin"
    python3 scripts/bench_hostports.py populate --plugin "$our_plugin" --node "$node" --pods "$pods" --backend "$backend" --workdir "$workdir" || {
        log "FAIL: the $backend backend's ADDs"
        exit 1
    }
    log "$backend: nat v4 $(ip netns exec "$node" iptables-nft-save -t nat | grep -c '^-A ' || true) rules," \
        "v6 $(ip netns exec "$node" ip6tables-nft-save -t nat | grep -c '^-A ' || true) rules (iptables-nft)"
    log "$backend: timing hostports ($runs runs + $rss_runs for RSS of each command)"
    python3 scripts/bench_hostports.py measure --hostports "$hostports" --node "$node" --backend "$backend" --pods "$pods" \
        --kube-proxy-rules "$kube_rules" --pod-netns "$pod_netns" --runs "$runs" --rss-runs "$rss_runs" --workdir "$workdir" \
        --out "$workdir/$backend.json" || status=1
    results+=("$workdir/$backend.json")
done

python3 scripts/bench_hostports.py report --markdown --commit "$commit" --command "$command_line" "${results[@]}" || status=1
if [ -n "${HPBENCH_RESULTS:-}" ]; then
    mkdir -p "$HPBENCH_RESULTS"
    cp "${results[@]}" "$HPBENCH_RESULTS"/
    log "raw results in $HPBENCH_RESULTS/"
fi
if [ "$status" != 0 ]; then
    log "FAIL: the run found correctness errors (see CORRECTNESS FAILURES above)"
    exit 1
fi
log "run completed correctly"
