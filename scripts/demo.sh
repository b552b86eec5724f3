#!/usr/bin/env bash
# Two pods behind Debian's bridge + host-local and this portmap, and their hostPorts answering a
# client. On a fresh Debian 12 machine, as root:
#   scripts/demo.sh
# Installs the Debian packages, builds the release plugin and `hostports`, then, all inside network namespaces it
# creates (names prefixed pmdemo-; nothing is changed in the machine's own namespace):
#   pmdemo-client 192.0.2.10, 2001:db8:1::10  --veth--  pmdemo-node 192.0.2.1 + .2, 2001:db8:1::1 + ::2
#   pmdemo-node runs conf/20-hostport-dualstack.conflist (bridge pmdemo-br0, 10.89.0.0/24 and
#   2001:db8:89::/64) for pmdemo-pod-a (tcp 8080->80, udp 8081->81) and pmdemo-pod-b (tcp 9090->80
#   on hostIP 192.0.2.1).
# Shows what `hostports` reports about the node. Prints a PASS/FAIL line per expectation and exits
# non-zero if any fails. Everything it creates
# is removed on exit; leftovers of an interrupted run are removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

readonly NODE=pmdemo-node CLIENT=pmdemo-client POD_A=pmdemo-pod-a POD_B=pmdemo-pod-b
readonly CONFLIST=conf/20-hostport-dualstack.conflist BRIDGE=pmdemo-br0
readonly NODE_V4=192.0.2.1 NODE_V4_SECOND=192.0.2.2 CLIENT_V4=192.0.2.10
readonly NODE_V6=2001:db8:1::1 NODE_V6_SECOND=2001:db8:1::2 CLIENT_V6=2001:db8:1::10
readonly MAPPINGS_A='[{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                      {"hostPort": 8081, "containerPort": 81, "protocol": "udp"}]'
readonly MAPPINGS_B='[{"hostPort": 9090, "containerPort": 80, "protocol": "tcp", "hostIP": "192.0.2.1"}]'
# Debian's interpreter, not whatever python3 comes first in PATH.
readonly PYTHON=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
    log "scripts/demo.sh must run as root (network namespaces, nat tables)"
    exit 1
fi
# One demo at a time: the namespace names are fixed. The lock is this file, held on fd 9, which
# every background process below closes.
exec 9<scripts/demo.sh
if ! flock -n 9; then
    log "another scripts/demo.sh is running"
    exit 1
fi

work=""
declare -A server_pid=()    # pod namespace -> its server's pid
declare -A added=()         # pod namespace -> 1 once ADD has run (even if it failed half-way)

in_ns() { ip netns exec "$@"; }

# ---------------------------------------------------------------------------------------------
# Cleanup: this run's (the EXIT trap) and a previous, interrupted run's (first thing).

stop_server() {
    local pod=$1 pid=${server_pid[$1]:-}
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "server_pid[$pod]"
}

delete_pod() {
    local pod=$1
    [ -n "${added[$pod]:-}" ] || return 0
    log "DEL $pod through the chain (portmap, then bridge)"
    local status=0
    cni_chain DEL "$pod" || status=$?
    unset "added[$pod]"
    return "$status"
}

cleanup() {
    local status=$?
    set +e
    trap - EXIT
    log "cleaning up"
    local pod
    for pod in "${!server_pid[@]}"; do stop_server "$pod"; done
    for pod in "${!added[@]}"; do delete_pod "$pod"; done
    remove_namespaces
    [ -n "$work" ] && rm -rf "$work"
    if ip netns list | grep -q '^pmdemo-'; then
        log "some pmdemo- namespaces are still there: $(ip netns list | grep '^pmdemo-' | tr '\n' ' ')"
    fi
    exit "$status"
}

# Deleting the node namespace takes its bridge, veths and nat tables with it; host-local's state
# lives in the run's temp dir. Processes still inside a namespace (a previous run's pod servers,
# started by this script) are stopped first, by pid.
remove_namespaces() {
    local ns pid
    for ns in $(ip netns list | awk '$1 ~ /^pmdemo-/ { print $1 }'); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
}

remove_leftovers() {
    if ip netns list | grep -q '^pmdemo-'; then
        log "removing leftovers of a previous run: $(ip netns list | awk '$1 ~ /^pmdemo-/ { print $1 }' | tr '\n' ' ')"
    fi
    remove_namespaces
    rm -rf "${TMPDIR:-/tmp}"/pmdemo.*
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Helpers.

cni_chain() {
    local command=$1 pod=$2 mappings
    mappings=$([ "$pod" = "$POD_A" ] && echo "$MAPPINGS_A" || echo "$MAPPINGS_B")
    "$PYTHON" scripts/cni_chain.py "$command" --conflist "$CONFLIST" --node "$NODE" --netns "$pod" \
        --container-id "$pod" --bin-dir "$work/bin" --bridge "$BRIDGE" --ipam-data-dir "$work/ipam" \
        --mappings "$mappings" --result "$work/$pod.result.json" 9<&-
}


# answered_by PROTO HOST PORT POD: one request from $FROM (default: the client); sets $answer,
# succeeds if POD answered.
answered_by() {
    answer=$(in_ns "${FROM:-$CLIENT}" timeout 10 "$PYTHON" "$PWD/scripts/probe.py" "$1" "$2" "$3" 9<&-) && [[ $answer == *"hello from $4 "* ]]
}

# expect_answer WHAT PROTO HOST PORT POD: the client's request must be answered by POD.
expect_answer() {
    local answer=
    if answered_by "$2" "$3" "$4" "$5"; then pass "$1 -> $answer"; else fail "$1: expected an answer from $5, got: ${answer:-nothing}"; fi
}

# expect_no_answer WHAT PROTO HOST PORT POD: POD must not answer the client's request.
expect_no_answer() {
    local answer=
    if answered_by "$2" "$3" "$4" "$5"; then fail "$1: $5 answered: $answer"; else pass "$1 -> $5 does not answer (${answer:-no answer})"; fi
}

nat_rules() {   # the CNI part of the node's nat table of one family and iptables variant
    in_ns "$NODE" "$1" -t nat 2>/dev/null | grep -F 'CNI-' || true
}

start_server() {
    local pod=$1 name=$2
    shift 2
    in_ns "$pod" "$PYTHON" "$PWD/scripts/pod_server.py" --name "$name" --http "$@" >"$work/$name.log" 2>&1 9<&- &
    server_pid[$pod]=$!
    local _
    for _ in $(seq 50); do
        grep -q '^ready' "$work/$name.log" && return 0
        kill -0 "${server_pid[$pod]}" 2>/dev/null || break
        sleep 0.1
    done
    log "the server in $pod did not start: $(cat "$work/$name.log")"
    exit 1
}

pod_addresses() {   # the pod's addresses from the list's result
    "$PYTHON" -c 'import json, sys; print(", ".join(ip["address"] for ip in json.load(open(sys.argv[1])).get("ips", [])))' \
        "$work/$1.result.json"
}

# ---------------------------------------------------------------------------------------------
# 1. Packages, leftovers, build.

install_packages
use_swift
remove_leftovers
work=$(mktemp -d "${TMPDIR:-/tmp}/pmdemo.XXXXXX")
mkdir -p "$work/bin" "$work/ipam"

# The same build as scripts/install.sh (release, runtimes linked statically), in a scratch
# directory of its own: the demo never waits on, or relinks under, a build or test run going on in
# .build at the same time. The first run compiles everything; later runs are incremental.
log "building the release plugin and hostports (scratch path .build/demo)"
release_args=$(release_build_args)   # a failure stops the script here (set -e)
mapfile -t build_args <<<"$release_args"
for program in portmap hostports; do
    swift build "${build_args[@]}" --product "$program" --scratch-path .build/demo 9<&-
    install -m 0755 "$(swift build "${build_args[@]}" --scratch-path .build/demo --show-bin-path)/$program" "$work/bin/$program"
done
ln -s /usr/lib/cni/bridge "$work/bin/bridge"
ln -s /usr/lib/cni/host-local "$work/bin/host-local"

# ---------------------------------------------------------------------------------------------
# 2. Node and client namespaces, joined by a veth pair.

log "creating namespaces $NODE and $CLIENT"
create_node_and_client pmdemo

# ---------------------------------------------------------------------------------------------
# 3-4. Two pods through the conflist, each with its server.

add_pod() {
    local pod=$1 mappings=$2
    ip netns add "$pod"
    ip -n "$pod" link set lo up
    in_ns "$pod" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    log "ADD $pod through $CONFLIST (bridge $BRIDGE + host-local, then portmap), portMappings:"
    printf '    %s\n' "$(tr -s ' \n' ' ' <<<"$mappings")" >&2
    added[$pod]=1
    cni_chain ADD "$pod"
    printf '    %s has %s\n' "$pod" "$(pod_addresses "$pod")" >&2
}

add_pod "$POD_A" "$MAPPINGS_A"
start_server "$POD_A" pod-a --tcp 80 --udp 81
add_pod "$POD_B" "$MAPPINGS_B"
start_server "$POD_B" pod-b --tcp 80

# The node has neither CNI nor Kubernetes chains, so the plugin writes where the system's
# iptables does (iptables-nft on Debian 12; see the README's "Which store").
for variant in legacy nft; do
    [ -n "$(nat_rules "iptables-$variant-save")" ] || continue
    log "what portmap wrote, in the iptables-$variant store: iptables-$variant-save -t nat in $NODE (CNI lines)"
    nat_rules "iptables-$variant-save" | sed 's/^/    /'
    log "ip6tables-$variant-save -t nat in $NODE (CNI lines)"
    nat_rules "ip6tables-$variant-save" | sed 's/^/    /'
done

# ---------------------------------------------------------------------------------------------
# 5. The client's view.

log "requests from $CLIENT ($CLIENT_V4, $CLIENT_V6)"
expect_answer "HTTP $NODE_V4:8080 reaches pod A" http "$NODE_V4" 8080 pod-a
expect_answer "UDP  $NODE_V4:8081 reaches pod A" udp "$NODE_V4" 8081 pod-a
expect_answer "HTTP [$NODE_V6]:8080 reaches pod A" http "$NODE_V6" 8080 pod-a
expect_answer "HTTP $NODE_V4_SECOND:8080 reaches pod A (no hostIP: every node address)" http "$NODE_V4_SECOND" 8080 pod-a
expect_answer "HTTP $NODE_V4:9090 reaches pod B (hostIP $NODE_V4)" http "$NODE_V4" 9090 pod-b
expect_no_answer "HTTP $NODE_V4_SECOND:9090 is not pod B (bound to $NODE_V4 only)" http "$NODE_V4_SECOND" 9090 pod-b

log "requests from the node itself, to its loopback address (route_localnet on the bridge)"
FROM=$NODE expect_answer "HTTP 127.0.0.1:8080 reaches pod A" http 127.0.0.1 8080 pod-a
FROM=$NODE expect_answer "UDP  127.0.0.1:8081 reaches pod A" udp 127.0.0.1 8081 pod-a

log "what hostports sees in $NODE (it reads the kernel, changes nothing): hostports list"
in_ns "$NODE" "$work/bin/hostports" list | sed 's/^/    /'
if report=$(in_ns "$NODE" "$work/bin/hostports" conflicts); then
    pass "hostports conflicts: ${report%$'\n'}"
else
    fail "hostports conflicts reports problems on a healthy node: $report"
fi
log "hostports explain $NODE_V4_SECOND:9090 (pod B's mapping is bound to $NODE_V4)"
explanation=$(in_ns "$NODE" "$work/bin/hostports" explain "$NODE_V4_SECOND:9090" || true)
printf '%s\n' "$explanation" | sed 's/^/    /'
if grep -q "^fails at dnat: tcp/9090 is mapped only on hostIP $NODE_V4" <<<"$explanation"; then
    pass "hostports explain names the failing step: the mapping is bound to $NODE_V4"
else
    fail "hostports explain did not name the hostIP binding"
fi

log "CHECK $POD_A through the chain"
if cni_chain CHECK "$POD_A"; then
    pass "CHECK $POD_A succeeds (bridge and portmap)"
else
    fail "CHECK $POD_A failed"
fi

# ---------------------------------------------------------------------------------------------
# 6. DEL, and what it leaves. (The EXIT trap does the rest, and DELs whatever is still added.)

stop_server "$POD_A"
stop_server "$POD_B"
del_ok=1
delete_pod "$POD_A" || del_ok=""
delete_pod "$POD_B" || del_ok=""
if [ -n "$del_ok" ]; then
    pass "DEL $POD_A and $POD_B succeed"
else
    fail "DEL of a pod failed"
fi
leftover=$(for save in {iptables,ip6tables}-{legacy,nft}-save; do nat_rules "$save"; done | grep -E 'CNI-DN-|pmdemo-pod' || true)
if [ -z "$leftover" ]; then
    pass "after DEL no CNI-DN- chain or pod rule is left in $NODE (the shared CNI-HOSTPORT-* chains stay)"
else
    fail "after DEL the nat tables still hold: $leftover"
fi

echo
if [ "$failed" = 0 ]; then
    log "all $passed checks passed"
else
    log "$failed of $((passed + failed)) checks FAILED"
    exit 1
fi
