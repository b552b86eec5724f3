#!/usr/bin/env bash
# Measures our portmap against Debian's Go portmap (v1.1.1, run with the legacy iptables so both
# write the same nat tables) side by side, as root:
#   scripts/bench.sh [--backend iptables|iptables-nft|nftables|nftables-upstream] [--levels 0,100,1000] [--pods 20] [--rss-pods 5]
#                    [--kube-proxy-rules 0] [--against upstream|go] [--quick] [--markdown]
#
# For each level L (pods already on the node) two identical node network namespaces are made
# (pmbench-<id>-L-ours / -go, deleted at exit): loopback and a veth pair with the node and pod
# addresses. Both get the same nat tables through iptables-legacy-restore / ip6tables-legacy-restore:
# the shared CNI-HOSTPORT-* chains, L dual-stack pods with 4 mappings each in the portmap layout,
# and with --kube-proxy-rules K also K kube-proxy-like IPv4 nat rules (KUBE-SERVICES, KUBE-SVC-*,
# KUBE-SEP-*, KUBE-EXT-*, ...). The twins are saved and diffed before anything is measured. Then, per
# twin, a warm-up ADD/CHECK/DEL whose tables are compared with the expected layout, and --pods pods
# each ADDed, CHECKed and DELed on both twins, alternating per operation (ours first on even pods,
# Go first on odd ones), so each ADD sees L pods and machine noise hits both plugins alike; then
# --rss-pods more the same way under GNU time for the peak RSS. The plugin binaries are run directly
# with a synthetic prevResult (no pods, no traffic). See scripts/bench.py for the details.
#
# It prints, per level, median / p90 / max wall time of ADD, CHECK and DEL, median / p90 of the
# per-invocation peak RSS, the ratios ours/go, and a MET / NOT MET line for each target of issue 5
# (ADD and DEL <= 0.1x Go, CHECK <= 0.2x, peak RSS <= 1.0x, ADD <= 3 ms at 0 pods), and our STATUS
# (--pods runs per level; Go 1.1.1 has none) against issue 15's 2 ms. The targets are
# informational. The exit status is 1 only for correctness failures: twins not identical after
# the preload, a failing ADD or DEL (either plugin), our CHECK or STATUS failing, tables not back to the
# preload after the DELs (leftovers), or ours writing another layout than expected.
#
# --backend iptables-nft measures ours with "iptablesStore": "nft" against the Go plugin run with
# iptables-nft, both twins preloaded through iptables-nft-restore as above, with issue 15's targets:
# ADD and DEL <= 0.05x Go's, ADD with L pods <= 1.5x ours on an empty node, STATUS <= 2 ms.
#
# --backend nftables measures ours with "backend": "nftables" against upstream's own nftables
# backend where ../shared/reference/portmap-go-3d27709f (or GO_PORTMAP) is there, exactly as
# --backend nftables-upstream below; where it is absent (it says so), or with --against go, against
# the Go plugin 1.1.1 run with iptables-nft (Debian's default iptables), the same way. The Go twin gets the same nat preload
# through iptables-nft-restore / ip6tables-nft-restore, ours the same pods as elements of its
# cni_portmaps tables through `nft -f` (the syntax of NFTablesPlanner.script), and with
# --kube-proxy-rules both twins get the kube-proxy-like rules through iptables-nft-restore (a node
# running kube-proxy in iptables mode next to our table). Each preload must read back as generated;
# the warm-up ADD must add exactly that pod's elements to our tables; after the DELs Go's nat tables
# (iptables-nft-save) and our namespace's whole ruleset (`nft -j list ruleset`) must be the
# preload again. Targets: ours ADD <= 0.05x Go's, and ours ADD with L pods <= 1.5x ours on an
# empty node; the DEL and CHECK ratios are printed without a target.
#
# --backend nftables-upstream measures ours with "backend": "nftables" against upstream's own Go
# portmap with "backend": "nftables" (../shared/reference/portmap-go-3d27709f, or GO_PORTMAP; the
# run is skipped with a message when it is absent; --backend nftables does the same when it is there): ours preloaded as above, upstream's twin by
# upstream's own ADD of each pod (its table cni_hostport, 6 IPv4 and 4 IPv6 rules a pod, each
# commented with its container ID, which is checked). Targets (issue 16): ADD <= 0.05x and DEL <=
# 0.1x upstream's, ours ADD with L pods <= 1.5x ours on an empty node, ours DEL <= 1.5x ours ADD,
# and at 1000 pods ours CHECK <= 2x ours ADD.
#
# Options (or environment):
#   --backend B             iptables (default), iptables-nft, nftables or nftables-upstream, as above (PMBENCH_BACKEND)
#   --levels L1,L2,...      pods preloaded per level (PMBENCH_LEVELS, default 0,100,1000; each <= 20000)
#   --pods M                pods timed per level (PMBENCH_PODS, default 20)
#   --rss-pods R            pods per level run under GNU time for the peak RSS (PMBENCH_RSS_PODS, default 5)
#   --kube-proxy-rules K    kube-proxy-like IPv4 nat rules added to every level (PMBENCH_KUBE_PROXY_RULES, default 0)
#   --against upstream|go   with --backend nftables: upstream's nftables backend (default, where it is
#                           present) or Go 1.1.1 on iptables-nft (PMBENCH_AGAINST)
#   --quick                 --levels 0,100 --pods 8 --rss-pods 2 (about 20 s)
#   --markdown              also print the figures as a markdown table (as in docs/benchmarks.md)
# Default run: about 1.5-2 minutes on 2 cores (Go's ADD takes ~1.5 s with 1000 pods, ~1.1 s with
# iptables-nft); with --kube-proxy-rules 10000 about 4.5-5 minutes (~3 s per Go ADD at 1000 pods).
#
# Environment:
#   PORTMAP_PLUGIN     our binary (default: build the release binary, as scripts/install.sh does)
#   GO_PORTMAP         the reference (default /usr/lib/cni/portmap)
#   PMBENCH_SHARED_LOCK=1  use the host's /run/xtables.lock (default: a private lock file, since the
#                      namespaces' tables are ours alone and other iptables users on the machine,
#                      e.g. a concurrent test run, would otherwise add lock waits to the timings)
#   PMBENCH_NO_INSTALL=1   skip installing the Debian packages
#   PMBENCH_RESULTS=DIR    keep the raw samples there (bench.json; `scripts/bench.py report DIR/bench.json`)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,3\}//' >&2; exit 2; }
backend=${PMBENCH_BACKEND:-iptables}
levels=${PMBENCH_LEVELS:-0,100,1000}
pods=${PMBENCH_PODS:-20}
rss_pods=${PMBENCH_RSS_PODS:-5}
kube_rules=${PMBENCH_KUBE_PROXY_RULES:-0}
against=${PMBENCH_AGAINST:-upstream}
markdown=()
while [ $# -gt 0 ]; do
    case $1 in
        --backend) backend=${2:?}; shift 2 ;;
        --levels) levels=${2:?}; shift 2 ;;
        --pods) pods=${2:?}; shift 2 ;;
        --rss-pods) rss_pods=${2:?}; shift 2 ;;
        --kube-proxy-rules) kube_rules=${2:?}; shift 2 ;;
        --against) against=${2:?}; shift 2 ;;
        --quick) levels=0,100; pods=8; rss_pods=2; shift ;;
        --markdown) markdown=(--markdown); shift ;;
        -h|--help) usage ;;
        *) log "unknown argument '$1'"; usage ;;
    esac
done
[[ $backend =~ ^(iptables|iptables-nft|nftables|nftables-upstream)$ ]] || {
    log "--backend must be iptables, iptables-nft, nftables or nftables-upstream, got '$backend'"
    exit 2
}
[[ $against =~ ^(upstream|go)$ ]] || { log "--against must be upstream or go, got '$against'"; exit 2; }
upstream_plugin=$(realpath -m ../shared/reference/portmap-go-3d27709f)
if [ "$backend" = nftables ] && [ "$against" = upstream ]; then
    if [ -x "$upstream_plugin" ]; then
        backend=nftables-upstream
    else
        log "upstream's Go portmap ($upstream_plugin) is absent: comparing against Go 1.1.1 on iptables-nft"
    fi
fi
if [ "$backend" = nftables-upstream ]; then
    go_plugin=${GO_PORTMAP:-$upstream_plugin}
    if [ ! -x "$go_plugin" ]; then
        log "skipped: upstream's Go portmap ($go_plugin) is absent; --backend nftables-upstream compares against it"
        exit 0
    fi
else
    go_plugin=${GO_PORTMAP:-/usr/lib/cni/portmap}
fi
[[ $levels =~ ^[0-9]+(,[0-9]+)*$ ]] || { log "--levels must be a comma-separated list of numbers, got '$levels'"; exit 2; }
[[ $pods =~ ^[0-9]+$ && $pods -ge 1 && $pods -le 1000 ]] || { log "--pods must be 1..1000, got '$pods'"; exit 2; }
[[ $rss_pods =~ ^[0-9]+$ && $rss_pods -le 1000 ]] || { log "--rss-pods must be 0..1000, got '$rss_pods'"; exit 2; }
[[ $kube_rules =~ ^[0-9]+$ && $kube_rules -le 200000 ]] || { log "--kube-proxy-rules must be 0..200000, got '$kube_rules'"; exit 2; }
IFS=, read -r -a level_list <<<"$levels"
for level in "${level_list[@]}"; do
    [ "$level" -le 20000 ] || { log "a level must be <= 20000 pods (host ports 40000 + index), got $level"; exit 2; }
done
[ "$(printf '%s\n' "${level_list[@]}" | sort -u | wc -l)" = "${#level_list[@]}" ] || { log "--levels has a level twice: $levels"; exit 2; }
if [ "$(id -u)" != 0 ]; then
    log "needs root (network namespaces, nat tables)"
    exit 1
fi

id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
workdir=$(mktemp -d "/tmp/pmbench-$id.XXXXXX")
namespaces=()

cleanup() {
    local status=$?
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null || log "could not delete netns $ns"
    done
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT

if [ "${PMBENCH_NO_INSTALL:-}" != 1 ]; then
    install_packages
    if [ ! -x /usr/bin/time ]; then
        log "installing GNU time (peak RSS)"
        apt-get install -y -qq --no-install-recommends time >/dev/null
    fi
fi
if [ "$backend" = nftables ] || [ "$backend" = nftables-upstream ]; then
    variant=nft
    tools=(/usr/sbin/nft)
elif [ "$backend" = iptables-nft ]; then
    variant=nft
    tools=()
else
    variant=legacy
    tools=()
fi
tools+=(/usr/sbin/{iptables,ip6tables}-"$variant"{,-save,-restore} /usr/bin/python3 /usr/bin/time)
for tool in "${tools[@]}"; do
    [ -x "$tool" ] || { log "missing $tool"; exit 1; }
done
[ -x "$go_plugin" ] || { log "missing the Go portmap $go_plugin (package containernetworking-plugins)"; exit 1; }

if [ -n "${PORTMAP_PLUGIN:-}" ]; then
    our_plugin=$PORTMAP_PLUGIN
    [ -x "$our_plugin" ] || { log "PORTMAP_PLUGIN=$our_plugin is not an executable"; exit 1; }
else
    use_swift
    log "building the release binary"
    release_args=$(release_build_args)   # a failure stops the script here (set -e)
    mapfile -t build_args <<<"$release_args"
    swift build "${build_args[@]}" --product portmap
    our_plugin=$(swift build "${build_args[@]}" --show-bin-path)/portmap
fi
our_plugin=$(realpath "$our_plugin")

# The Go plugin runs `iptables`/`ip6tables` from PATH: point them at the legacy tools, or with
# --backend nftables at the nft ones. Ours links libiptc or speaks netlink and ignores PATH, but
# gets the same one.
mkdir -p "$workdir/bin"
ln -s "/usr/sbin/iptables-$variant" "$workdir/bin/iptables"
ln -s "/usr/sbin/ip6tables-$variant" "$workdir/bin/ip6tables"
lockfile=""
[ "${PMBENCH_SHARED_LOCK:-}" = 1 ] || lockfile=$workdir/xtables.lock

# A node namespace: loopback, and an interface carrying the node address the hostIP mappings use
# and routes to the pod subnets (so the Go plugin finds a host interface, as on a real node). A
# veth pair with both ends in the namespace: the dummy driver is not always available.
make_node() {
    local ns=$1
    ip netns add "$ns"
    namespaces+=("$ns")
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip netns exec "$ns" ip link add pmb0 type veth peer name pmb1
    ip netns exec "$ns" ip addr add 192.0.2.1/24 dev pmb0
    ip netns exec "$ns" ip addr add 10.88.0.1/16 dev pmb0
    ip netns exec "$ns" ip -6 addr add 2001:db8:89::1/64 dev pmb0 nodad
    ip netns exec "$ns" ip link set pmb1 up
    ip netns exec "$ns" ip link set pmb0 up
}

for level in "${level_list[@]}"; do
    make_node "pmbench-$id-$level-ours"
    make_node "pmbench-$id-$level-go"
done

log "levels $levels pods (+ $kube_rules kube-proxy rules), $pods timed + $rss_pods RSS pods per level; ours $our_plugin, go $go_plugin"
case $backend in
    nftables) log "backend nftables: ours with \"backend\": \"nftables\", go with iptables-nft" ;;
    nftables-upstream) log "backend nftables: ours and upstream's Go portmap, each with \"backend\": \"nftables\"" ;;
    iptables-nft) log "store iptables-nft: ours with \"iptablesStore\": \"nft\", go with iptables-nft" ;;
esac
status=0
/usr/bin/python3 scripts/bench.py run --ours "$our_plugin" --go "$go_plugin" --backend "$backend" --levels "$levels" --pods "$pods" \
    --rss-pods "$rss_pods" --kube-proxy-rules "$kube_rules" --path-dir "$workdir/bin" --lockfile "$lockfile" \
    --netns-prefix "pmbench-$id" --out "$workdir/bench.json" "${markdown[@]}" || status=$?
if [ -n "${PMBENCH_RESULTS:-}" ] && [ -f "$workdir/bench.json" ]; then
    mkdir -p "$PMBENCH_RESULTS"
    cp "$workdir/bench.json" "$PMBENCH_RESULTS"/
    log "raw results in $PMBENCH_RESULTS/bench.json"
fi
if [ "$status" != 0 ]; then
    log "FAIL: the run found correctness errors (see CORRECTNESS FAILURES above)"
    exit 1
fi
log "run completed correctly"
