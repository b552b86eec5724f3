#!/usr/bin/env bash
# Measures rule programming of our portmap against Debian's Go portmap (v1.1.1, run with the
# legacy iptables so both write the same nat tables), as root:
#   scripts/bench.sh [N]     N dual-stack containers per plugin (default 50, or $PMBENCH_CONTAINERS)
#
# Each plugin gets its own fresh node network namespace (pmbench-<id>-ours / -go, deleted at exit)
# holding only a veth pair with the node and pod addresses; the plugin binary is run directly
# with a synthetic prevResult (no pods, no traffic). Per plugin: a warm-up ADD+DEL, N ADDs, M more
# ADDs with the N in the table ("ADD@N", M = $PMBENCH_EXTRA, default 10), CHECK of all, DEL of all;
# then the same again under GNU time for each invocation's peak RSS (kept out of the timings).
# Each container has 4 mappings (tcp+udp on one port, another tcp, a tcp bound to 192.0.2.1).
#
# Correctness is checked on the way: every ADD/DEL must exit 0 and no CNI-DN- chain may be left in
# either nat table after the DELs; otherwise the script exits 1. CHECK failures are reported, and
# are fatal only for our plugin. Timings are informational: nothing is asserted about them.
#
# Environment:
#   PORTMAP_PLUGIN     our binary (default: build the release binary, as scripts/install.sh does)
#   GO_PORTMAP         the reference (default /usr/lib/cni/portmap)
#   PMBENCH_EXTRA      containers added on top of the N for ADD@N (default 10)
#   PMBENCH_SHARED_LOCK=1  use the host's /run/xtables.lock (default: a private lock file, since the
#                      namespace's tables are ours alone and other iptables users on the machine,
#                      e.g. a concurrent test run, would otherwise add lock waits to the timings)
#   PMBENCH_NO_INSTALL=1   skip installing the Debian packages
#   PMBENCH_RESULTS=DIR    keep the raw samples (<plugin>.json) and the full nat tables at peak
#                      (<plugin>.json.tables) there
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

containers=${1:-${PMBENCH_CONTAINERS:-50}}
extra=${PMBENCH_EXTRA:-10}
go_plugin=${GO_PORTMAP:-/usr/lib/cni/portmap}
[[ $containers =~ ^[0-9]+$ && $containers -ge 1 && $containers -le 2000 ]] || { log "N must be 1..2000, got '$containers'"; exit 2; }
[[ $extra =~ ^[0-9]+$ && $((containers + extra)) -le 2000 ]] || { log "PMBENCH_EXTRA must be a number, N+extra <= 2000"; exit 2; }
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
for tool in /usr/sbin/iptables-legacy /usr/sbin/ip6tables-legacy /usr/sbin/iptables-legacy-save /usr/sbin/ip6tables-legacy-save /usr/bin/python3 /usr/bin/time; do
    [ -x "$tool" ] || { log "missing $tool"; exit 1; }
done
[ -x "$go_plugin" ] || { log "missing the Go portmap $go_plugin (package containernetworking-plugins)"; exit 1; }

if [ -n "${PORTMAP_PLUGIN:-}" ]; then
    our_plugin=$PORTMAP_PLUGIN
    [ -x "$our_plugin" ] || { log "PORTMAP_PLUGIN=$our_plugin is not an executable"; exit 1; }
else
    use_swift
    log "building the release binary"
    swift build -c release --static-swift-stdlib --product portmap
    our_plugin=$(swift build -c release --static-swift-stdlib --show-bin-path)/portmap
fi
our_plugin=$(realpath "$our_plugin")

# The Go plugin runs `iptables`/`ip6tables` from PATH: point them at the legacy tools. Ours links
# libiptc and ignores PATH, but gets the same one.
mkdir -p "$workdir/bin"
ln -s /usr/sbin/iptables-legacy "$workdir/bin/iptables"
ln -s /usr/sbin/ip6tables-legacy "$workdir/bin/ip6tables"
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

status=0
for side in ours go; do
    ns=pmbench-$id-$side
    plugin=$our_plugin
    [ "$side" = go ] && plugin=$go_plugin
    make_node "$ns"
    log "$side: $containers + $extra dual-stack containers x 4 mappings in netns $ns ($plugin)"
    ip netns exec "$ns" /usr/bin/python3 scripts/bench.py run --name "$side" --plugin "$plugin" \
        --containers "$containers" --extra "$extra" --path-dir "$workdir/bin" --lockfile "$lockfile" \
        --out "$workdir/$side.json" || status=1
    ip netns del "$ns"
    unset 'namespaces[-1]'
done

if [ -n "${PMBENCH_RESULTS:-}" ]; then
    mkdir -p "$PMBENCH_RESULTS"
    cp "$workdir"/*.json "$workdir"/*.tables "$PMBENCH_RESULTS"/ 2>/dev/null || true
    log "raw results in $PMBENCH_RESULTS"
fi
log "results (wall time per invocation, including process start; peak RSS = largest process)"
/usr/bin/python3 scripts/bench.py report "$workdir/ours.json" "$workdir/go.json"
ours_check_failures=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["check_failures"]))' "$workdir/ours.json")
if [ "$ours_check_failures" != 0 ]; then
    log "FAIL: our CHECK failed for $ours_check_failures containers"
    status=1
fi
if [ "$status" != 0 ]; then
    log "FAIL: the run found errors (see FAIL lines above)"
    exit 1
fi
log "run completed correctly"
