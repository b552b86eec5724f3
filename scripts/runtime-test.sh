#!/usr/bin/env bash
# A real container runtime drives our plugin: Debian's podman 4.3 with its CNI network backend runs
# containers through a conflist of Debian's bridge + host-local and this portmap. On a Debian 12
# machine, as root:
#   scripts/runtime-test.sh [--backend iptables|nftables]   (RUNTIME_TEST_TRACE=1: log every portmap call)
# --backend (default iptables) is the portmap entry's "backend" in the generated conflist, and what
# the checks read back in pmrt-node: the nat tables of the store the plugin chooses on a node
# without CNI or Kubernetes chains, the system iptables' (iptables-nft-save on Debian 12; the other
# store must hold no CNI-DN- chain), or the nftables tables ip/ip6 cni_portmaps (elements
# commented "<network>/<containerID>"; neither iptables store may then hold a CNI-DN- chain).
# Installs the Debian packages (podman, runc, busybox-static, and lib.sh's), builds and installs the
# release plugin with scripts/install.sh into a private CNI bin dir, and then, all in namespaces and
# directories of its own (nothing is added to the machine's own network namespace):
#   pmrt-client 10.237.90.10, fd5c:8a3e:91b7:90::10  --veth--  pmrt-node 10.237.90.1 + .2, ...:90::1 + ::2
#   podman runs inside pmrt-node's network namespace (nsenter --net, the mount namespace stays the
#   machine's), so its CNI plugins, the bridge pmrt-br0 (10.237.91.0/24, fd5c:8a3e:91b7:91::/64),
#   the nat tables and the hostPorts all live there; podman's container namespaces hang off it.
# Podman is isolated: CONTAINERS_CONF / CONTAINERS_STORAGE_CONF point at files in a temp dir that
# also holds its storage (vfs), run root, tmp dir, file locks, events log, the CNI config dir (only
# our network) and the CNI bin dir (our portmap + links to Debian's bridge, host-local, loopback:
# Debian's Go portmap is in no directory podman searches). Runtime: runc, cgroupfs, cgroup parent
# /pmrt-runtime-test.
# Containers come from a two-file image built here (podman import of busybox-static + a static UDP
# responder; no registry): pmrt-web-a publishes tcp 18080->80 and udp 18081->81 on every address,
# pmrt-web-b tcp 19090->80 bound to 10.237.90.1 and tcp 19091->80 bound to fd5c:8a3e:91b7:90::1.
# Prints PASS/FAIL per check and "N passed, M failed"; exits non-zero if any check fails. Everything
# it creates is removed on exit (and leftovers of an interrupted run first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

readonly NODE=pmrt-node CLIENT=pmrt-client
readonly NETWORK=pmrt-hostport BRIDGE=pmrt-br0 CONFLIST_SOURCE=conf/20-hostport-dualstack.conflist
readonly POD_SUBNET_V4=10.237.91.0/24 POD_SUBNET_V6=fd5c:8a3e:91b7:91::/64
readonly NODE_V4=10.237.90.1 NODE_V4_SECOND=10.237.90.2 CLIENT_V4=10.237.90.10
readonly NODE_V6=fd5c:8a3e:91b7:90::1 NODE_V6_SECOND=fd5c:8a3e:91b7:90::2 CLIENT_V6=fd5c:8a3e:91b7:90::10
readonly WEB_A=pmrt-web-a WEB_B=pmrt-web-b
readonly IMAGE=localhost/pmrt-busybox:latest
# With the cgroupfs manager, podman puts containers (and conmon) under this parent; removed on exit.
readonly CGROUP_PARENT=pmrt-runtime-test
readonly WORK_PREFIX=pmrt-runtime.
readonly PYTHON=/usr/bin/python3
readonly TRACE=${RUNTIME_TEST_TRACE:-}

usage() { log "usage: scripts/runtime-test.sh [--backend iptables|nftables]"; exit 2; }
backend=iptables
while [ $# -gt 0 ]; do
    case $1 in
        --backend) [ $# -ge 2 ] || usage; backend=$2; shift 2 ;;
        --backend=*) backend=${1#--backend=}; shift ;;
        *) usage ;;
    esac
done
case $backend in iptables|nftables) ;; *) usage ;; esac
readonly BACKEND=$backend
# What the checks call the plugin's per-container state: iptables rules, or nftables elements.
if [ "$BACKEND" = nftables ]; then RULES=elements; else RULES=rules; fi
readonly RULES
# The iptables store of an empty node: the variant /usr/sbin/iptables resolves to (README, "Which
# store"); the other one must stay free of our chains.
if [[ $(readlink -f /usr/sbin/iptables) == *nft* ]]; then STORE=nft OTHER_STORE=legacy; else STORE=legacy OTHER_STORE=nft; fi
readonly STORE OTHER_STORE

if [ "$(id -u)" != 0 ]; then
    log "scripts/runtime-test.sh must run as root (podman, network namespaces, nat tables)"
    exit 1
fi
# One run at a time: the namespace names are fixed. The lock is this file, held on fd 9, which
# every long-lived process below closes.
exec 9<scripts/runtime-test.sh
if ! flock -n 9; then
    log "another scripts/runtime-test.sh is running"
    exit 1
fi

work=""

# ---------------------------------------------------------------------------------------------
# Packages. lib.sh's install_packages (apt-get update, build and test packages) runs first.

install_runtime_packages() {
    # podman (conmon, containers-common), runc (crun 1.8 refuses hybrid cgroup hierarchies such as
    # this machine's; runc runs on v1, hybrid and v2), busybox-static for the image.
    local packages=(podman runc conmon golang-github-containers-common busybox-static)
    if [ "$(id -u)" != 0 ]; then return; fi
    log "installing Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
}

# ---------------------------------------------------------------------------------------------
# Podman, isolated: everything it writes is under $1 (the run's temp dir), except libcni's result
# cache (/var/lib/cni/results/<network>-*), containers/image's blob info cache
# (/var/lib/containers/cache) and runc's state dir (/run/runc/<id>: the cleanup that conmon runs
# when a container exits does not get podman's --runtime-flag, so runc's --root cannot be moved):
# cleanup removes what we made.

pm_in() { podman_in "$NODE" "$@"; }   # pm_in WORKDIR ARGS...
pm() { pm_in "$work" "$@"; }

# Cleanup of one run's temp dir: this run's (the EXIT trap, and the final leftover check) or an
# interrupted run's. Podman removes its containers first (CNI DEL through the list, so host-local
# releases and the nat rules go); then whatever is still there is removed by hand.
cleanup_workdir() {
    local dir=$1 pid path mnt
    [ -d "$dir" ] || return 0
    if [ -f "$dir/containers.conf" ] && [ -e "/run/netns/$NODE" ] && command -v podman >/dev/null; then
        pm_in "$dir" rm --all --force --time 0 >/dev/null 2>&1 || true
    fi
    # Container network namespaces podman made for this run (recorded as each container started).
    if [ -f "$dir/sandboxes" ]; then
        while read -r path; do
            [ -e "$path" ] || continue
            for pid in $(ip netns pids "$(basename "$path")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            umount "$path" 2>/dev/null || true
            rm -f "$path"
        done <"$dir/sandboxes"
    fi
    # Anything still mounted below the dir (a container's shm if podman died half-way).
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done
    # libcni's cached results for our network; the directories only if this run created them.
    rm -f /var/lib/cni/results/"$NETWORK"-*
    if [ -f "$dir/created-var-lib-cni" ]; then
        rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
    fi
    remove_podman_machine_files "$dir"
    rm -rf "$dir"
}

teardown() {
    local dir
    for dir in "${TMPDIR:-/tmp}/$WORK_PREFIX"*; do
        [ -e "$dir" ] && cleanup_workdir "$dir"
    done
    delete_namespaces pmrt-
    remove_cgroups "$CGROUP_PARENT"
}

cleanup() {
    local status=$?
    set +e
    trap - EXIT
    log "cleaning up"
    teardown
    exit "$status"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Checks and probes.

check() {   # check WHAT COMMAND...: PASS if COMMAND succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

in_node() { nsenter --net="/run/netns/$NODE" "$@" 9<&-; }
in_client() { ip netns exec "$CLIENT" "$@" 9<&-; }

# probe NS PROTO HOST PORT: one bounded request from namespace NS (client or node); prints the answer.
probe() {
    local runner=in_client
    [ "$1" = node ] && runner=in_node
    "$runner" timeout 10 "$PYTHON" "$PWD/scripts/probe.py" "$2" "$3" "$4" /cgi-bin/hello
}

expect_answer() {   # expect_answer WHAT NS PROTO HOST PORT NAME
    local answer
    if answer=$(probe "$2" "$3" "$4" "$5") && [[ $answer == *"hello from $6 "* ]]; then
        pass "$1 -> $answer"
    else
        fail "$1: expected an answer from $6, got: ${answer:-nothing}"
    fi
}

expect_no_answer() {   # expect_no_answer WHAT NS PROTO HOST PORT
    local answer
    if answer=$(probe "$2" "$3" "$4" "$5"); then
        fail "$1: answered: $answer"
    else
        pass "$1 -> ${answer:-no answer}"
    fi
}

# The node's tables, read into a variable before grep looks at them (with pipefail, a grep -q that
# stops reading early would fail the pipeline).
nat() { in_node "$1" -t nat; }   # nat iptables-<variant>-save|ip6tables-<variant>-save
both_nat() { nat "iptables-$STORE-save" && nat "ip6tables-$STORE-save"; }
dn_chains() { local rules; rules=$(nat "$1"); grep -c '^:CNI-DN-' <<<"$rules" || true; }
container_id() { pm inspect --format '{{.Id}}' "$1"; }

# The nftables backend's state: nft_table FAMILY (ip|ip6) prints the node's cni_portmaps table of
# that family, nothing if there is none (and fails if nft does); nft_dnat_maps FAMILY its two DNAT
# maps; nft_owners FAMILY the distinct element comments ("<network>/<containerID>") of the table.
nft_table() {
    local tables
    tables=$(in_node nft list tables "$1") || return 1
    grep -qx "table $1 cni_portmaps" <<<"$tables" || return 0
    in_node nft list table "$1" cni_portmaps
}
both_nft() { nft_table ip && nft_table ip6; }
nft_dnat_maps() {
    in_node nft list map "$1" cni_portmaps hostport_dnat && in_node nft list map "$1" cni_portmaps hostip_dnat
}
nft_owners() { local table; table=$(nft_table "$1") || return 1; { grep -o 'comment "[^"]*"' <<<"$table" || true; } | sort -u; }
owner_comment() { printf 'comment "%s/%s"' "$NETWORK" "${ids[$1]:-unknown}"; }

# rules_present NAME FAMILIES...: the container's entry rule (comment id: "<ID>") is in each family's
# nat table; with nftables, an element commented "<network>/<ID>" is in one of each family's DNAT
# maps. rules_absent NAME: no line of either family's nat table (nftables: cni_portmaps table) names
# the container.
rules_present() {
    local name=$1 id=${ids[$1]:-unknown} family rules
    shift
    for family in "$@"; do
        if [ "$BACKEND" = nftables ]; then
            rules=$(nft_dnat_maps "$family") || return 1
            grep -qF -- "$(owner_comment "$name")" <<<"$rules" || return 1
        else
            rules=$(nat "$family") || return 1
            grep -q -- "^-A CNI-HOSTPORT-DNAT .*id: .*$id" <<<"$rules" || return 1
        fi
    done
}
if [ "$BACKEND" = nftables ]; then
    rules_present_both() { rules_present "$1" ip ip6; }
    node_state() { both_nft; }
else
    rules_present_both() { rules_present "$1" "iptables-$STORE-save" "ip6tables-$STORE-save"; }
    node_state() { both_nat; }
fi
rules_absent() { local rules; [ -n "${ids[$1]:-}" ] && rules=$(node_state) && ! grep -qF -- "${ids[$1]}" <<<"$rules"; }
# no_chains_in VARIANT: that iptables store's nat tables hold no CNI-DN- chain.
no_chains_in() { test "$(dn_chains "iptables-$1-save") $(dn_chains "ip6tables-$1-save")" = "0 0"; }
quiet() { "$@" >/dev/null; }

declare -A ids=()
record_container() {   # after a start: its id, and its network namespace (for the cleanup)
    ids[$1]=$(container_id "$1")
    pm inspect --format '{{.NetworkSettings.SandboxKey}}' "$1" >>"$work/sandboxes" || true
}

# wait_ready NAME: the container's servers answer on its own address (from the node), 15 s at most.
wait_ready() {
    local address deadline=$((SECONDS + 15))
    address=$(pm inspect --format "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$1")
    while [ "$SECONDS" -lt "$deadline" ]; do
        if probe node http "$address" 80 >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "$1 ($address) does not answer on port 80"
    return 1
}

run_container() {   # run_container NAME PODMAN-RUN-ARGS... : detached, with both servers
    local name=$1
    shift
    pm run --detach --name "$name" --network "$NETWORK" --cgroup-parent "/$CGROUP_PARENT" \
        --stop-signal KILL "$@" "$IMAGE" /bin/serve "${name#pmrt-}" >/dev/null || return 1
    record_container "$name" && wait_ready "$name"
}
start_container() { pm start "$1" >/dev/null && record_container "$1" && wait_ready "$1"; }

# ---------------------------------------------------------------------------------------------
# Files: podman's config, the network, the image, the probe.

write_podman_config() {
    mkdir -p "$work"/{cni-bin,cni-conf,ipam,storage,run,tmp}
    write_podman_conf "$work" 'network_backend = "cni"' "cni_plugin_dirs = [\"$work/cni-bin\"]" "network_config_dir = \"$work/cni-conf\"" "default_network = \"$NETWORK\""
    # The network: conf/20-hostport-dualstack.conflist with our name, bridge, subnets and IPAM dir.
    "$PYTHON" - "$CONFLIST_SOURCE" "$work/cni-conf/$NETWORK.conflist" <<EOF
import json, sys
conf = json.load(open(sys.argv[1]))
conf["name"] = "$NETWORK"
bridge = next(p for p in conf["plugins"] if p["type"] == "bridge")
bridge["bridge"] = "$BRIDGE"
bridge["ipam"]["ranges"] = [[{"subnet": "$POD_SUBNET_V4"}], [{"subnet": "$POD_SUBNET_V6"}]]
bridge["ipam"]["dataDir"] = "$work/ipam"
portmap = next(p for p in conf["plugins"] if p["type"] == "portmap")
if "$BACKEND" == "nftables":
    portmap["backend"] = "nftables"
json.dump(conf, open(sys.argv[2], "w"), indent=2)
EOF
}

install_plugins() {
    local plugin bin=$work/cni-bin
    if [ -n "$TRACE" ]; then bin=$work/cni-real; fi
    scripts/install.sh "$bin" 9<&-
    if [ -n "$TRACE" ]; then
        # A logging wrapper in the plugin dir: each call's verb, exit status, stdout and stderr.
        cat >"$work/cni-bin/portmap" <<EOF
#!/bin/bash
log=$work/portmap-calls.log
out=\$(mktemp "$work/tmp/call.XXXXXX")
"$work/cni-real/portmap" >"\$out.out" 2>"\$out.err"
status=\$?
{ echo "CNI_COMMAND=\$CNI_COMMAND CNI_CONTAINERID=\$CNI_CONTAINERID exit=\$status stdout=\$(tr -d '\\n ' <"\$out.out" | cut -c1-200) stderr=\$(cat "\$out.err")"; } >>"\$log"
cat "\$out.out"; cat "\$out.err" >&2
rm -f "\$out" "\$out.out" "\$out.err"
exit \$status
EOF
        chmod 0755 "$work/cni-bin/portmap"
    fi
    for plugin in bridge host-local loopback; do
        ln -s "/usr/lib/cni/$plugin" "$work/cni-bin/$plugin"
    done
}

build_image() {
    build_image_tar "$work"
    log "podman import: $IMAGE (busybox-static, udp-hello)"
    pm import --quiet "$work/image.tar" "$IMAGE" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# 1. Packages, leftovers, files.

started=$SECONDS
install_packages
install_runtime_packages
use_swift
teardown   # an interrupted run's leftovers
work=$(mktemp -d "${TMPDIR:-/tmp}/${WORK_PREFIX}XXXXXX")
[ -d /var/lib/cni ] || touch "$work/created-var-lib-cni"
note_podman_machine_files "$work"

write_podman_config
install_plugins

# ---------------------------------------------------------------------------------------------
# 2. Node and client namespaces, joined by a veth pair.

log "creating namespaces $NODE and $CLIENT"
create_node_and_client pmrt

build_image
log "setup took $((SECONDS - started)) s; podman $(pm version --format '{{.Client.Version}}' || true)"

# ---------------------------------------------------------------------------------------------
# 3. Podman's view: CNI backend, our dirs only.

echo "podman setup"
check "podman uses the CNI network backend" test "$(pm info --format '{{.Host.NetworkBackend}}')" = cni
check "podman's storage is the run's own ($work/storage, vfs)" \
    test "$(pm info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}')" = "$work/storage vfs"
check "podman sees the network $NETWORK from $work/cni-conf" pm network exists "$NETWORK"
our_portmap_installed() {   # a file of its own (not a link), not Debian's Go binary
    local installed=$work/cni-bin/portmap
    [ -n "$TRACE" ] && installed=$work/cni-real/portmap
    [ ! -L "$work/cni-bin/portmap" ] && [ -f "$installed" ] && ! cmp -s "$installed" /usr/lib/cni/portmap
}
check "podman's only CNI bin dir (cni_plugin_dirs) holds our portmap, not Debian's Go one" our_portmap_installed

# ---------------------------------------------------------------------------------------------
# 4. Two containers.

echo "containers"
check "podman run $WEB_A -p 18080:80 -p 18081:81/udp: up and serving" \
    run_container "$WEB_A" --publish 18080:80 --publish 18081:81/udp
check "podman run $WEB_B -p $NODE_V4:19090:80 -p [$NODE_V6]:19091:80: up and serving" \
    run_container "$WEB_B" --publish "$NODE_V4:19090:80" --publish "[$NODE_V6]:19091:80"
pm ps --all --format '    {{.Names}} {{.Status}} {{.Ports}}' || true

bridge_in_node_only() { ip -n "$NODE" link show "$BRIDGE" >/dev/null 2>&1 && ! ip link show "$BRIDGE" >/dev/null 2>&1; }
guard_installed() {
    local rules
    rules=$(in_node "iptables-$STORE-save" -t raw) && grep -q -- '-A PREROUTING .*-j CNI-HOSTPORT-GUARD' <<<"$rules"
}
machine_nat_untouched() {
    local rules
    rules=$(for save in {iptables,ip6tables}-{legacy,nft}-save; do "$save" -t nat 2>/dev/null; done)
    if [ "$BACKEND" = nftables ]; then rules+=$(nft list ruleset 2>/dev/null); fi
    ! grep -qF -e "${ids[$WEB_A]:-unknown}" -e "${ids[$WEB_B]:-unknown}" -e "$NETWORK" <<<"$rules"
}
nft_tables_created() {   # both families' tables, ip's with the localnet guard (only ours creates them)
    local table
    table=$(nft_table ip) && grep -q 'chain localnet_guard {' <<<"$table" \
        && table=$(nft_table ip6) && grep -q 'chain hostports {' <<<"$table"
}
no_guard_in() { local rules; rules=$(in_node "iptables-$1-save" -t raw) && ! grep -q -- 'CNI-HOSTPORT-GUARD' <<<"$rules"; }
other_store_untouched() { no_chains_in "$OTHER_STORE" && no_guard_in "$OTHER_STORE"; }
check "CNI ran in $NODE: the bridge $BRIDGE is there, not in the machine's namespace" bridge_in_node_only
if [ "$BACKEND" = nftables ]; then
    check "our plugin did the ADD: $NODE has the tables ip and ip6 cni_portmaps, ip's with chain localnet_guard (only ours creates them)" nft_tables_created
    for variant in legacy nft; do
        check "the iptables backend was not used: $NODE's iptables-$variant nat tables hold no CNI-DN- chain" no_chains_in "$variant"
        check "the iptables backend was not used: $NODE's iptables-$variant raw table has no CNI-HOSTPORT-GUARD" no_guard_in "$variant"
    done
    check "DNAT map elements commented $NETWORK/<id> for $WEB_A in both families" rules_present_both "$WEB_A"
    check "DNAT map elements commented $NETWORK/<id> for $WEB_B in both families (one hostIP each)" rules_present_both "$WEB_B"
    check "the machine's own nat tables and nftables ruleset have nothing of our containers" machine_nat_untouched
    log "what portmap wrote in $NODE (nft list table ip/ip6 cni_portmaps)"
    both_nft | sed 's/^/    /' || true
else
    check "our plugin did the ADD in the iptables-$STORE store: $NODE's raw table has CNI-HOSTPORT-GUARD (only ours creates it)" guard_installed
    check "the iptables-$OTHER_STORE store was not written: no CNI-DN- chain, no CNI-HOSTPORT-GUARD" other_store_untouched

    check "entry rules for $WEB_A in both families" rules_present_both "$WEB_A"
    check "entry rules for $WEB_B in both families (one hostIP each)" rules_present_both "$WEB_B"
    check "the machine's own nat tables have no rule for our containers" machine_nat_untouched
    log "what portmap wrote in $NODE (CNI lines of iptables-$STORE-save -t nat)"
    nat "iptables-$STORE-save" | grep -F 'CNI-' | sed 's/^/    /' || true
fi

echo "traffic"
expect_answer "HTTP $NODE_V4:18080 reaches $WEB_A" client http "$NODE_V4" 18080 web-a
expect_answer "HTTP $NODE_V4_SECOND:18080 reaches $WEB_A (no hostIP: every node address)" client http "$NODE_V4_SECOND" 18080 web-a
expect_answer "HTTP [$NODE_V6]:18080 reaches $WEB_A" client http "$NODE_V6" 18080 web-a
expect_answer "UDP  $NODE_V4:18081 reaches $WEB_A" client udp "$NODE_V4" 18081 web-a
expect_answer "UDP  [$NODE_V6_SECOND]:18081 reaches $WEB_A" client udp "$NODE_V6_SECOND" 18081 web-a
expect_answer "HTTP 127.0.0.1:18080 from the node itself reaches $WEB_A (route_localnet + masquerade)" node http 127.0.0.1 18080 web-a
expect_answer "HTTP $NODE_V4:19090 reaches $WEB_B (hostIP $NODE_V4)" client http "$NODE_V4" 19090 web-b
expect_no_answer "HTTP $NODE_V4_SECOND:19090 does not reach $WEB_B (bound to $NODE_V4)" client http "$NODE_V4_SECOND" 19090
expect_answer "HTTP [$NODE_V6]:19091 reaches $WEB_B (hostIP $NODE_V6)" client http "$NODE_V6" 19091 web-b
expect_no_answer "HTTP [$NODE_V6_SECOND]:19091 does not reach $WEB_B (bound to $NODE_V6)" client http "$NODE_V6_SECOND" 19091
expect_no_answer "HTTP $NODE_V4:19091 does not reach $WEB_B (the IPv6 mapping)" client http "$NODE_V4" 19091

# ---------------------------------------------------------------------------------------------
# 5. stop / start: rules removed and restored.

echo "podman stop / start"
check "podman stop $WEB_A" quiet pm stop "$WEB_A"
check "after podman stop $WEB_A its $RULES are gone from both families" rules_absent "$WEB_A"
check "after podman stop $WEB_A, $WEB_B's $RULES are still there" rules_present_both "$WEB_B"
if [ "$BACKEND" = nftables ]; then
    only_owner() {   # only_owner NAME: every element of both families' tables is NAME's
        local family owners
        for family in ip ip6; do
            owners=$(nft_owners "$family") || return 1
            [ "$owners" = "$(owner_comment "$1")" ] || return 1
        done
    }
    check "after podman stop $WEB_A every element left in either family is $WEB_B's" only_owner "$WEB_B"
else
    check "after podman stop $WEB_A one CNI-DN- chain is left per family" \
        test "$(dn_chains "iptables-$STORE-save") $(dn_chains "ip6tables-$STORE-save")" = "1 1"
fi
expect_no_answer "HTTP $NODE_V4:18080 after stop" client http "$NODE_V4" 18080
expect_answer "HTTP $NODE_V4:19090 still reaches $WEB_B" client http "$NODE_V4" 19090 web-b

check "podman start $WEB_A: up and serving" start_container "$WEB_A"
check "after podman start $WEB_A its $RULES are back in both families" rules_present_both "$WEB_A"
expect_answer "HTTP $NODE_V4:18080 reaches $WEB_A again" client http "$NODE_V4" 18080 web-a
expect_answer "UDP  $NODE_V4:18081 reaches $WEB_A again" client udp "$NODE_V4" 18081 web-a
expect_answer "HTTP [$NODE_V6_SECOND]:18080 reaches $WEB_A again" client http "$NODE_V6_SECOND" 18080 web-a

# ---------------------------------------------------------------------------------------------
# 6. The container dies without podman stop: conmon runs `podman container cleanup`, which DELs.

echo "container killed from outside"
rules_gone_soon() {   # the cleanup runs asynchronously: 15 s at most
    local _
    for _ in $(seq 30); do
        rules_absent "$1" && return 0
        sleep 0.5
    done
    return 1
}
kill_container() {
    local pid
    pid=$(pm inspect --format '{{.State.Pid}}' "$1") && [ "$pid" -gt 0 ] && kill -KILL "$pid"
}
check "kill -KILL of $WEB_A's process from the node" kill_container "$WEB_A"
check "conmon's podman container cleanup removed $WEB_A's $RULES" rules_gone_soon "$WEB_A"
check "podman start $WEB_A after the crash: up and serving" start_container "$WEB_A"
check "its $RULES are back in both families" rules_present_both "$WEB_A"
expect_answer "HTTP $NODE_V4_SECOND:18080 reaches $WEB_A" client http "$NODE_V4_SECOND" 18080 web-a

# ---------------------------------------------------------------------------------------------
# 7. The nat tables wiped (as a firewall reload does), then podman network reload (DEL + ADD).

if [ "$BACKEND" = nftables ]; then
    echo "nftables ruleset flushed, podman network reload"
    in_node nft flush ruleset
    tables_gone() { local tables; tables=$(both_nft) && [ -z "$tables" ]; }
    check "the flush removed the cni_portmaps tables" tables_gone
    expect_no_answer "HTTP $NODE_V4:18080 with the ruleset flushed" client http "$NODE_V4" 18080
else
    echo "nat tables wiped, podman network reload"
    for save in "iptables-$STORE" "ip6tables-$STORE"; do
        in_node "$save" -t nat -F
        in_node "$save" -t nat -X
    done
    expect_no_answer "HTTP $NODE_V4:18080 with the nat table wiped" client http "$NODE_V4" 18080
fi
check "podman network reload --all succeeds" quiet pm network reload --all
check "after the reload $WEB_A's $RULES are back in both families" rules_present_both "$WEB_A"
check "after the reload $WEB_B's $RULES are back in both families" rules_present_both "$WEB_B"
expect_answer "HTTP $NODE_V4:18080 reaches $WEB_A after the reload" client http "$NODE_V4" 18080 web-a
expect_answer "HTTP [$NODE_V6]:19091 reaches $WEB_B after the reload" client http "$NODE_V6" 19091 web-b

# ---------------------------------------------------------------------------------------------
# 8. rm: of a running container, and of a stopped one; then nothing of theirs is left.

echo "podman rm"
check "podman rm --force $WEB_A (running)" quiet pm rm --force "$WEB_A"
check "after podman rm --force $WEB_A (running) its $RULES are gone" rules_absent "$WEB_A"
expect_no_answer "HTTP $NODE_V4:18080 after rm" client http "$NODE_V4" 18080
expect_answer "HTTP $NODE_V4:19090 still reaches $WEB_B" client http "$NODE_V4" 19090 web-b
check "podman stop $WEB_B" quiet pm stop "$WEB_B"
check "after podman stop $WEB_B its $RULES are gone" rules_absent "$WEB_B"
check "podman rm $WEB_B (stopped)" quiet pm rm "$WEB_B"
check "no container is left" test -z "$(pm ps --all --quiet)"
leftover=$(for save in {iptables,ip6tables}-{legacy,nft}-save; do nat "$save"; done \
    | grep -e '^:CNI-DN-' -e "${ids[$WEB_A]:-unknown}" -e "${ids[$WEB_B]:-unknown}" || true)
if [ "$BACKEND" = nftables ]; then
    # The tables may stay, empty: no element (nft prints "elements = " only for a non-empty set or
    # map) and nothing naming our containers; nor any CNI-DN- chain in either iptables store.
    if tables=$(both_nft); then
        leftover+=$(grep -e 'elements = ' -e "${ids[$WEB_A]:-unknown}" -e "${ids[$WEB_B]:-unknown}" <<<"$tables" || true)
    else
        leftover+=" (nft list table failed)"
    fi
    if [ -z "$leftover" ]; then
        pass "after the last rm the cni_portmaps tables hold no element (the tables may stay) and neither iptables store a CNI-DN- chain"
    else
        fail "after the last rm the node still holds: $leftover"
    fi
elif [ -z "$leftover" ]; then
    pass "after the last rm no CNI-DN- chain or container rule is left in either store's nat tables (shared CNI-HOSTPORT-* chains stay)"
else
    fail "after the last rm the nat tables still hold: $leftover"
fi

if [ -n "$TRACE" ]; then
    log "portmap calls podman made ($work/portmap-calls.log)"
    sed 's/^/    /' "$work/portmap-calls.log"
fi

# ---------------------------------------------------------------------------------------------
# 9. Teardown, and what it leaves behind.

echo "teardown"
log "removing the image, the namespaces, the run's directory"
pm rmi --all --force >/dev/null 2>&1 || true
sandboxes=$(sort -u "$work/sandboxes" 2>/dev/null || true)
created=""   # the machine's directories this run created, gone after the teardown
[ ! -f "$work/created-var-lib-cni" ] || created+=" /var/lib/cni"
[ ! -f "$work/created-blob-info-cache" ] || created+=" /var/lib/containers/cache/blob-info-cache-v1.boltdb"
[ ! -f "$work/created-run-runc" ] || created+=" /run/runc"
teardown
leftovers=()
[ -d "$work" ] && leftovers+=("$work")
namespaces=$(ip netns list | awk '$1 ~ /^pmrt-/ { print $1 }')
[ -z "$namespaces" ] || leftovers+=("namespaces: $namespaces")
for path in $sandboxes; do
    [ ! -e "$path" ] || leftovers+=("container netns $path")
done
ip link show "$BRIDGE" >/dev/null 2>&1 && leftovers+=("bridge $BRIDGE")
compgen -G "/sys/fs/cgroup/*/$CGROUP_PARENT" >/dev/null && leftovers+=("cgroups /sys/fs/cgroup/*/$CGROUP_PARENT")
compgen -G "/var/lib/cni/results/$NETWORK-*" >/dev/null && leftovers+=("/var/lib/cni/results/$NETWORK-*")
for id in "${ids[@]}"; do
    [ ! -e "/run/runc/$id" ] || leftovers+=("/run/runc/$id")
done
for path in $created; do
    [ ! -e "$path" ] || leftovers+=("$path")
done
if [ ${#leftovers[@]} = 0 ]; then
    pass "nothing left behind (run dir, namespaces, container netns, bridge, cgroups, CNI cache)"
else
    fail "left behind: ${leftovers[*]}"
fi

echo
log "took $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
