#!/usr/bin/env bash
# The path kubelet takes to our plugin: a CRI v1 client of our own (scripts/cri, Python and grpcio in
# a venv) -> Debian's containerd 1.6 CRI plugin -> go-cni -> libcni -> bridge + host-local + our
# portmap, with real traffic from a client namespace. As root:
#   scripts/runtime-test-containerd.sh [--backend iptables|iptables-nft|nftables] [--validate]
# iptables (default): the store the plugin chooses (iptables-nft on Debian 12); iptables-nft: with
# "iptablesStore": "nft"; nftables: with "backend": "nftables". --validate proves the checks can
# fail: a portmap that passes prevResult on and installs nothing must fail the traffic checks (the
# run then succeeds only if the first hostPort check failed).
#
# containerd runs from a config in a temp dir (its root, state, socket, runc root, a CNI bin dir
# holding our release plugin behind a logging wrapper beside Debian's bridge, host-local and
# loopback, conf/20-hostport-dualstack.conflist: bridge + portmap), inside a node network namespace entered with
# `nsenter --net` (`ip netns exec` remounts /sys and hides the cgroups runc needs). The sandbox image
# is built offline from busybox-static (scripts/cri/build_image.py) and imported with `ctr`. Pods
# serve "hello from NAME" over TCP 80 and "NAME from PEER" over UDP 53. Pod web maps TCP 8080 and UDP 5353
# on every node address, TCP 8081 on 192.0.2.1 only and TCP 8082 on 2001:db8:1::1 only: checked from
# the client namespace on every node address, from the node on 127.0.0.1 and from the pod itself
# (hairpin). Pod other (9090, 5354) must keep its rules and answer through both DELs of web
# (StopPodSandbox with the netns and prevResult, RemovePodSandbox without either); pod next then takes
# web's ports, the UDP client keeping its source port (the conntrack entry to web must be gone).
# containerd is restarted with other and next running, which must keep answering and be stopped
# through the restarted containerd; at the end no rule, chain or element of any pod is left in any
# store, and host-local holds no address.
# Every plugin call is logged; the logs are kept when a check fails. This VM's root lacks
# CAP_SYS_RESOURCE: `restrict_oom_score_adj` keeps runc from writing the sandbox's -998.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

backend=iptables validate=false
while [ $# -gt 0 ]; do
    case $1 in
        --backend) backend=${2:?}; shift 2 ;;
        --validate) validate=true; shift ;;
        *) log "unknown argument '$1'"; exit 2 ;;
    esac
done
case $backend in
    iptables) overrides='{}' ;;
    iptables-nft) overrides='{"iptablesStore": "nft"}' ;;
    nftables) overrides='{"backend": "nftables"}' ;;
    *) log "--backend must be iptables, iptables-nft or nftables, got '$backend'"; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { log "needs root (network namespaces, containerd)"; exit 1; }
NODE=pmcri-node CLIENT=pmcri-client
work=$(mktemp -d /tmp/pmcri.XXXXXX)
sock=$work/containerd.sock
image=docker.io/portmap-test/busybox:latest
failures=0

innode() { nsenter --net="/run/netns/$NODE" "$@"; }
inclient() { nsenter --net="/run/netns/$CLIENT" "$@"; }
cri() { "$work/venv/bin/python" scripts/cri/cri_client.py --sock "$sock" --state-dir "$work/client-state" "$@"; }
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else log "FAIL: $what"; failures=$((failures + 1)); fi
}
pass() { printf 'PASS: %s\n' "$1"; }

cleanup() {
    local status=$? pid
    set +e
    for f in "$work"/udp-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    if [ -S "$sock" ]; then
        for id in $(cri pods 2>/dev/null | "$work/venv/bin/python" -c 'import json,sys; print(" ".join(i["id"] for i in json.load(sys.stdin).get("items", [])))' 2>/dev/null); do
            cri stopp "$id" >/dev/null 2>&1
            cri rmp "$id" >/dev/null 2>&1
        done
    fi
    if [ -f "$work/containerd.pid" ]; then
        pid=$(cat "$work/containerd.pid")
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    fi
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock( |$)"); do kill -9 "$pid" 2>/dev/null; done
    for c in $(runc --root "$work/runc/k8s.io" list -q 2>/dev/null); do
        runc --root "$work/runc/k8s.io" kill "$c" KILL 2>/dev/null
        runc --root "$work/runc/k8s.io" delete -f "$c" 2>/dev/null
    done
    # A killed shim leaves its socket in /run/containerd/s (containerd 1.6 puts it there).
    for a in "$work"/state/io.containerd.runtime.v2.task/*/*/address; do [ -f "$a" ] && rm -f "$(sed 's#^unix://##' "$a")"; done
    awk -v r="$work/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    ip netns del "$CLIENT" 2>/dev/null
    ip netns del "$NODE" 2>/dev/null
    for c in /sys/fs/cgroup/*/pmcri; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    # libcni's result cache is the host's (/var/lib/cni/results): only an interrupted run leaves ours.
    for f in /var/lib/cni/results/*; do [ -f "$f" ] && grep -q "$work/" "$f" && rm -f "$f"; done
    if [ "$status" != 0 ] || [ "$failures" != 0 ]; then
        local kept
        kept=/tmp/pmcri-logs-$(basename "$work")
        mkdir -p "$kept"
        cp -a "$work"/*.log "$work"/*.txt "$work"/config.toml "$kept"/ 2>/dev/null
        log "logs kept in $kept (cni-calls.log: every plugin call)"
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

log "installing containerd, runc, busybox-static and the CRI client's Python packages"
apt-get install -y -qq --no-install-recommends containerd runc busybox-static curl python3-venv >/dev/null
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -r scripts/cri/requirements.txt

log "building our release plugin"
mkdir -p "$work"/{root,state,runc,cni-bin,cni-conf,cni-data,pods,opt,plugin}
if [ "$validate" = true ]; then
    # A chained plugin that installs nothing: ADD answers with prevResult, every other verb with nothing.
    cat >"$work/plugin/portmap" <<'STUB'
#!/usr/bin/env python3
import json, os, sys
config = json.load(sys.stdin)
if os.environ.get("CNI_COMMAND") == "ADD":
    print(json.dumps(config.get("prevResult", {"cniVersion": config.get("cniVersion", "1.0.0")})))
STUB
    chmod +x "$work/plugin/portmap"
else
    scripts/install.sh "$work/plugin" >/dev/null
fi
for plugin in bridge host-local loopback portmap; do
    real=/usr/lib/cni/$plugin
    [ "$plugin" = portmap ] && real=$work/plugin/portmap
    cat >"$work/cni-bin/$plugin" <<EOF
#!/bin/sh
# Logs each call (environment, stdin, exit status, stdout) to cni-calls.log, then answers as $real.
in=\$(mktemp); out=\$(mktemp)
cat > "\$in"
"$real" < "\$in" > "\$out"; rc=\$?
{ printf '=== %s %s netns=%s container=%s rc=%s\n' "$plugin" "\$CNI_COMMAND" "\$CNI_NETNS" "\$CNI_CONTAINERID" "\$rc"
  printf 'stdin: '; cat "\$in"; echo; printf 'stdout: '; tr -d '\n' < "\$out"; echo; } >> "$work/cni-calls.log"
cat "\$out"; rm -f "\$in" "\$out"
exit \$rc
EOF
    chmod +x "$work/cni-bin/$plugin"
done
# The network is conf/'s dual-stack conflist as shipped, host-local's leases kept in the temp dir and
# the backend's option added to the portmap entry.
python3 - conf/20-hostport-dualstack.conflist "$work/cni-data" "$overrides" >"$work/cni-conf/20-hostport-dualstack.conflist" <<'PYEOF'
import json, sys
conflist = json.load(open(sys.argv[1]))
conflist["plugins"][0]["ipam"]["dataDir"] = sys.argv[2]
conflist["plugins"][1].update(json.loads(sys.argv[3]))
print(json.dumps(conflist, indent=2))
PYEOF
cat >"$work/config.toml" <<EOF
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$image"
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$work/cni-bin"
    conf_dir = "$work/cni-conf"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$work/runc"
EOF

log "namespaces: $NODE (192.0.2.1, 192.0.2.2, 2001:db8:1::1, 2001:db8:1::2) and $CLIENT"
ip netns add "$NODE"
ip netns add "$CLIENT"
ip link add pmcri-n0 type veth peer name pmcri-c0
ip link set pmcri-n0 netns "$NODE"
ip link set pmcri-c0 netns "$CLIENT"
innode sh -ec 'ip link set lo up; ip link set pmcri-n0 up
    ip addr add 192.0.2.1/24 dev pmcri-n0; ip addr add 192.0.2.2/24 dev pmcri-n0
    ip addr add 2001:db8:1::1/64 dev pmcri-n0 nodad; ip addr add 2001:db8:1::2/64 dev pmcri-n0 nodad
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'
inclient sh -ec 'ip link set lo up; ip link set pmcri-c0 up
    ip addr add 192.0.2.10/24 dev pmcri-c0; ip addr add 2001:db8:1::10/64 dev pmcri-c0 nodad'

log "starting containerd in $NODE"
nsenter --net="/run/netns/$NODE" containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
echo $! >"$work/containerd.pid"
for _ in $(seq 100); do cri version >/dev/null 2>&1 && break; sleep 0.1; done
cri version >"$work/version.txt"
"$work/venv/bin/python" scripts/cri/build_image.py "$work/image.tar" "${image#docker.io/}" >/dev/null
ctr -a "$sock" -n k8s.io images import --snapshotter overlayfs "$work/image.tar" >/dev/null

# A pod: RunPodSandbox with its port mappings, then httpd ("hello from NAME") and scripts/pod_server.py
# (UDP answers "NAME from PEER") in it; its sandbox ID and netns path land in $work/NAME.id and $work/NAME.netns.
run_pod() {
    local name=$1 uid=$2 ports=$3 id netns container
    cri runp --name "$name" --uid "$uid" --ports "$ports" --log-dir "$work/pods/$name" --cgroup-parent /pmcri >"$work/runp-$name.txt"
    id=$("$work/venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pod_sandbox_id"])' "$work/runp-$name.txt")
    cri inspectp "$id" >"$work/inspectp-$name.txt"
    netns=$("$work/venv/bin/python" -c '
import json, sys
spec = json.load(open(sys.argv[1]))["info"]["info"]["runtimeSpec"]
print([n["path"] for n in spec["linux"]["namespaces"] if n["type"] == "network"][0])' "$work/inspectp-$name.txt")
    container=$(cri create "$id" --name "$name" -- sh -c "echo 'hello from $name' > /www/index.html; exec httpd -f -p 80 -h /www" |
        "$work/venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["container_id"])')
    cri start "$container" >/dev/null
    nsenter --net="$netns" python3 scripts/pod_server.py --name "$name" --udp 53 >/dev/null &
    echo $! >"$work/udp-$name.pid"
    echo "$id" >"$work/$name.id"
    echo "$netns" >"$work/$name.netns"
    for _ in $(seq 30); do
        [ "$(nsenter --net="$netns" curl -sS -m 1 http://127.0.0.1/ 2>/dev/null)" = "hello from $name" ] &&
            nsenter --net="$netns" python3 scripts/probe.py udp 127.0.0.1 53 --tries 1 >/dev/null && return 0
        sleep 0.1
    done
    log "pod $name did not start serving"
    return 1
}
id_of() { cat "$work/$1.id"; }
stop_pod() {
    kill "$(cat "$work/udp-$1.pid")" 2>/dev/null || true
    cri stopp "$(id_of "$1")" >/dev/null
}

# Requests from the client namespace, the node, or a pod's own namespace; NAME is the pod that must answer.
answers() { [ "$(inclient curl -gsS -m 3 "$1" 2>/dev/null)" = "hello from $2" ]; }
silent() { ! inclient curl -gsS -m 2 "$1" >/dev/null 2>&1; }
udp_answers() { [[ "$(inclient python3 scripts/probe.py udp "$2" "$3" ${4:+--source-port "$4"})" == "$1 from "* ]]; }
node_answers() { [ "$(innode curl -gsS -m 3 "$1" 2>/dev/null)" = "hello from $2" ]; }
pod_answers() { [ "$(nsenter --net="$(cat "$work/$1.netns")" curl -gsS -m 3 "$2" 2>/dev/null)" = "hello from $3" ]; }

# Everything in the node's tables, every store: both iptables variants' nat tables, both families,
# and the nf_tables ruleset (which holds the iptables-nft tables and the nftables backend's).
rules() {
    {
        for save in iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save; do innode "$save" -t nat; done
        innode nft list ruleset
    } 2>/dev/null
}
# Lines naming a pod's sandbox ID (rule comments in either iptables store, element comments in the
# nftables tables), read a tick after a DEL, which expires nftables elements.
held() {
    sleep 0.05
    rules | grep -c -- "$(id_of "$1")" || true
}

log "pod web: TCP 8080->80, UDP 5353->53, TCP 192.0.2.1:8081->80, TCP [2001:db8:1::1]:8082->80"
run_pod web 00000000-0000-0000-0000-0000000000c1 tcp/8080/80,udp/5353/53,tcp/8081/80/192.0.2.1,tcp/8082/80/2001:db8:1::1
check "TCP 8080 on 192.0.2.1 reaches the pod" answers http://192.0.2.1:8080/ web
if [ "$validate" = true ]; then
    if [ "$failures" != 0 ]; then
        failures=0
        log "validation: with a portmap that installs nothing the hostPort check fails, as it must"
        exit 0
    fi
    log "FAIL: validation: the hostPort check passed with a portmap that installs nothing"
    exit 1
fi
check "TCP 8080 on 192.0.2.2 (another node address) reaches the pod" answers http://192.0.2.2:8080/ web
check "TCP 8080 on [2001:db8:1::1] reaches the pod" answers "http://[2001:db8:1::1]:8080/" web
check "TCP 8080 on [2001:db8:1::2] reaches the pod" answers "http://[2001:db8:1::2]:8080/" web
check "TCP 8081 bound to 192.0.2.1 reaches the pod there" answers http://192.0.2.1:8081/ web
check "TCP 8081 bound to 192.0.2.1 does not answer on 192.0.2.2" silent http://192.0.2.2:8081/
check "TCP 8082 bound to [2001:db8:1::1] reaches the pod there" answers "http://[2001:db8:1::1]:8082/" web
check "TCP 8082 bound to [2001:db8:1::1] does not answer on [2001:db8:1::2]" silent "http://[2001:db8:1::2]:8082/"
check "UDP 5353 on 192.0.2.1 reaches the pod (client port 40053)" udp_answers web 192.0.2.1 5353 40053
check "UDP 5353 on 192.0.2.2 reaches the pod" udp_answers web 192.0.2.2 5353
check "UDP 5353 on [2001:db8:1::1] reaches the pod" udp_answers web 2001:db8:1::1 5353
check "TCP 8080 on 127.0.0.1 from the node reaches the pod" node_answers http://127.0.0.1:8080/ web
check "hairpin: the pod reaches itself through 192.0.2.1:8080" pod_answers web http://192.0.2.1:8080/ web

log "pod other: TCP 9090->80, UDP 5354->53"
run_pod other 00000000-0000-0000-0000-0000000000c2 tcp/9090/80,udp/5354/53
check "TCP 9090 on 192.0.2.1 reaches pod other" answers http://192.0.2.1:9090/ other
check "pod other reaches pod web through 192.0.2.1:8080" pod_answers other http://192.0.2.1:8080/ web
check "pod web's rules ($backend) exist while it runs" test "$(held web)" -gt 0
other_held=$(held other)
check "pod other's rules ($backend) exist while it runs" test "$other_held" -gt 0

log "StopPodSandbox and RemovePodSandbox of pod web"
stop_pod web
check "StopPodSandbox (DEL with the netns and prevResult) removed every rule of pod web ($backend)" test "$(held web)" = 0
check "TCP 8080 no longer answers after StopPodSandbox" silent http://192.0.2.1:8080/
check "TCP 8082 on [2001:db8:1::1] no longer answers after StopPodSandbox" silent "http://[2001:db8:1::1]:8082/"
check "pod other's rules are all still there after web's DEL" test "$(held other)" = "$other_held"
cri rmp "$(id_of web)" >/dev/null
check "RemovePodSandbox sent a DEL without CNI_NETNS, which succeeded" grep -q "^=== portmap DEL netns= container=$(id_of web) rc=0$" "$work/cni-calls.log"
check "pod other's rules are all still there after web's second DEL" test "$(held other)" = "$other_held"
check "TCP 9090 still reaches pod other" answers http://192.0.2.1:9090/ other
check "UDP 5354 still reaches pod other" udp_answers other 192.0.2.1 5354

log "pod next takes web's freed ports: TCP 8080->80, UDP 5353->53"
run_pod next 00000000-0000-0000-0000-0000000000c3 tcp/8080/80,udp/5353/53
check "TCP 8080 on 192.0.2.1 reaches pod next" answers http://192.0.2.1:8080/ next
check "UDP 5353 from client port 40053 reaches pod next (the conntrack entry to web was flushed)" udp_answers next 192.0.2.1 5353 40053

log "restarting containerd with pods other and next running"
pid=$(cat "$work/containerd.pid")
kill "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "pod next still answers while containerd is down" answers http://192.0.2.1:8080/ next
nsenter --net="/run/netns/$NODE" containerd --config "$work/config.toml" >>"$work/containerd.log" 2>&1 &
echo $! >"$work/containerd.pid"
for _ in $(seq 100); do cri version >/dev/null 2>&1 && break; sleep 0.1; done
check "after the restart containerd lists pods other and next as ready" test "$(cri pods | grep -c '"SANDBOX_READY"')" = 2
check "pod other still answers after the restart" answers http://192.0.2.1:9090/ other
stop_pod other
stop_pod next
check "StopPodSandbox after the restart removed pod other's rules" test "$(held other)" = 0
check "StopPodSandbox after the restart removed pod next's rules" test "$(held next)" = 0
check "TCP 8080 no longer answers" silent http://192.0.2.1:8080/
check "TCP 9090 no longer answers" silent http://192.0.2.1:9090/
cri rmp "$(id_of other)" >/dev/null
cri rmp "$(id_of next)" >/dev/null

log "what is left"
calls=$(grep -c '^=== portmap ' "$work/cni-calls.log")
check "portmap ran 3 ADDs and 6 DELs (Stop and Remove of each pod), each exiting 0" \
    test "$calls/$(grep -c '^=== portmap ADD .* rc=0$' "$work/cni-calls.log")/$(grep -c '^=== portmap DEL .* rc=0$' "$work/cni-calls.log")" = 9/3/6
check "containerd sent the Go field spellings (HostPort, ContainerPort, HostIP)" grep -q '"HostPort":8080' "$work/cni-calls.log"
check "no CNI-DN- chain, CNI-HOSTPORT-DNAT rule or rule naming a pod is left in any store" \
    test "$(rules | grep -c -e '^:CNI-DN-' -e '^-A CNI-HOSTPORT-DNAT' -e "$(id_of web)" -e "$(id_of other)" -e "$(id_of next)")" = 0
check "the nftables tables hold no element" test "$(rules | grep -c 'elements = ')" = 0
check "host-local released every pod address" test "$(find "$work/cni-data" -type f ! -name 'last_reserved_ip*' ! -name lock | wc -l)" = 0

if [ "$failures" != 0 ]; then
    log "FAIL: $failures check(s) failed"
    exit 1
fi
log "all containerd CRI checks passed ($backend)"
