# Shared helpers for the scripts: logging and installing what they need on Debian 12.
# shellcheck shell=bash

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The PASS/FAIL line of one check (the demo's, the runtime test's), counted in `passed` and `failed`.
passed=0
failed=0
pass() { passed=$((passed + 1)); printf '  \033[32mPASS\033[0m  %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf '  \033[31mFAIL\033[0m  %s\n' "$*"; }

# The Debian packages the build, the tests and the demo need: libiptc/libmnl/libnftnl headers for
# the C boundary, legacy iptables tools and nft to read the tables back, Debian's CNI plugins
# (bridge, host-local, and the Go portmap we compare against), iproute2 for namespaces, python3 for traffic,
# prometheus for `promtool check metrics` (its server is kept from starting: see below).
install_packages() {
    local packages=(pkg-config binutils libiptc-dev libmnl-dev libnftnl-dev libstdc++-12-dev iptables nftables containernetworking-plugins iproute2 python3 procps shellcheck prometheus)
    if [ "$(id -u)" != 0 ]; then
        log "not root: skipping package installation (${packages[*]})"
        return
    fi
    log "installing Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Only promtool is wanted from the prometheus package: a policy-rc.d denying every start keeps
    # its server (and any other package's daemon) from starting during the installation.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
    fi
    local status=0
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null || status=$?
    if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
    return "$status"
}

# Swift 6 lives in /opt/swift on these machines.
use_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 || { log "swift not found (expected /opt/swift/usr/bin)"; exit 1; }
}

# `swift build` arguments for the binaries installed on nodes. Besides the Swift runtime
# (--static-swift-stdlib), libstdc++ and libgcc are linked in statically, the executable exports no
# symbols and is position-dependent (-no-pie, as Debian's and upstream's Go plugins are): the
# dynamic loader then maps only libc, libm, libiptc, libmnl and libnftnl and relocates nothing in
# the executable itself (a PIE has 16,000 relative relocations, whose pages every run would copy),
# while the libraries, heap and stack keep their randomized addresses. Measured on VERSION: 1.35
# instead of 1.79 ms and 5.1 instead of 6.5 MiB for the static runtime; -no-pie then took STATUS
# from 2.02 to 1.89 ms median and VERSION from 201 to 161 page faults. SwiftPM's static link line
# names `-lstdc++`; a search directory holding only libstdc++.a, searched before gcc's own, makes
# that resolve to the archive. No RUNPATH $ORIGIN (--disable-local-rpath): we ship no libraries of
# our own, and with it the loader first looked for every library in ten subdirectories of the CNI
# bin directory (46 failed system calls per run, and a libc.so.6 dropped there would have been
# loaded into a root process).
release_build_args() {
    local archive directory=.build/static-libstdcxx
    archive=$(gcc -print-file-name=libstdc++.a)
    # gcc answers with the bare name when it has no such file.
    [ "${archive#/}" != "$archive" ] || { log "libstdc++.a not found (package libstdc++-12-dev)"; return 1; }
    mkdir -p "$directory"
    ln -sf "$archive" "$directory/libstdc++.a"
    printf '%s\n' -c release --static-swift-stdlib --disable-local-rpath -Xlinker "-L$PWD/$directory" -Xlinker --no-export-dynamic \
        -Xswiftc -Xclang-linker -Xswiftc -static-libgcc -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xswiftc -use-ld=lld
}

# The demo's and the runtime test's network: namespaces NODE and CLIENT joined by a veth pair
# (<prefix>-n0 in the node, <prefix>-c0 in the client), the node forwarding, with the caller's
# NODE_V4, NODE_V4_SECOND, NODE_V6, NODE_V6_SECOND, CLIENT_V4 and CLIENT_V6 (no DAD, so IPv6
# addresses are usable at once).
create_node_and_client() {
    local prefix=$1 ns
    for ns in "$NODE" "$CLIENT"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$NODE" link add "$prefix-n0" type veth peer name "$prefix-c0" netns "$CLIENT"
    ip -n "$NODE" addr add "$NODE_V4/24" dev "$prefix-n0"
    ip -n "$NODE" addr add "$NODE_V4_SECOND/24" dev "$prefix-n0"
    ip -n "$NODE" -6 addr add "$NODE_V6/64" dev "$prefix-n0" nodad
    ip -n "$NODE" -6 addr add "$NODE_V6_SECOND/64" dev "$prefix-n0" nodad
    ip -n "$NODE" link set "$prefix-n0" up
    ip -n "$CLIENT" addr add "$CLIENT_V4/24" dev "$prefix-c0"
    ip -n "$CLIENT" -6 addr add "$CLIENT_V6/64" dev "$prefix-c0" nodad
    ip -n "$CLIENT" link set "$prefix-c0" up
}

# The runtime tests' container image, as WORK/image.tar for `podman import` or `docker import`
# (no registry is reachable): busybox-static and a static UDP responder; its command `serve NAME`
# answers HTTP on 80 (busybox httpd, a CGI that names the container and the peer it saw) and UDP
# on 81.
build_image_tar() {
    local work=$1 root=$1/image applet
    mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,www/cgi-bin}
    install -m 0755 /bin/busybox "$root/bin/busybox"
    for applet in sh httpd cat echo ls ip sleep; do ln -s busybox "$root/bin/$applet"; done
    # A UDP responder (busybox-static's nc has no UDP): one reply per datagram, over IPv4 and IPv6.
    cat >"$work/udp-hello.c" <<'C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: udp-hello NAME PORT\n"); return 2; }
    int off = 0, fd = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[2])), .sin6_addr = IN6ADDR_ANY_INIT };
    if (fd >= 0 && (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0
                    || bind(fd, (struct sockaddr *)&any6, sizeof any6) != 0)) { close(fd); fd = -1; }
    if (fd < 0) {
        struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&any4, sizeof any4) != 0) { perror("udp-hello"); return 1; }
    }
    for (;;) {
        char buffer[2048], host[INET6_ADDRSTRLEN] = "?", reply[256];
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        if (recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&peer, &length) < 0) continue;
        if (peer.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, host, sizeof host);
        else
            inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, host, sizeof host);
        int size = snprintf(reply, sizeof reply, "hello from %s over udp (you are %s)\n", argv[1], host);
        sendto(fd, reply, size, 0, (struct sockaddr *)&peer, length);
    }
}
C
    clang -static -O2 -o "$root/bin/udp-hello" "$work/udp-hello.c"
    cat >"$root/bin/serve" <<'SH'
#!/bin/sh
echo "$1" >/etc/container-name
/bin/udp-hello "$1" 81 &
exec /bin/httpd -f -p 80 -h /www
SH
    cat >"$root/www/cgi-bin/hello" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhello from %s (you are %s)\n' "$(cat /etc/container-name)" "$REMOTE_ADDR"
SH
    chmod 0755 "$root/bin/serve" "$root/www/cgi-bin/hello"
    tar -C "$root" -cf "$work/image.tar" .
}

# A private podman configuration in WORK (containers.conf, storage.conf; runroot, graph root, tmp
# and the events log in WORK too), its [network] section the remaining arguments, one line each.
# Point podman at it with CONTAINERS_CONF=WORK/containers.conf and CONTAINERS_STORAGE_CONF=WORK/storage.conf.
write_podman_conf() {
    local work=$1
    shift
    {
        printf '%s\n' '[containers]' \
            "# This machine's root lacks CAP_SYS_RESOURCE: podman's default rlimits (nofile 1048576) would fail." \
            'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]' '' '[network]' "$@" ''
        cat <<EOF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
lock_type = "file"
image_copy_tmp_dir = "$work/tmp"
EOF
    } >"$work/containers.conf"
    cat >"$work/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$work/storage"
runroot = "$work/run"
EOF
}

# Podman with WORK's private configuration (write_podman_conf), in network namespace NAMESPACE
# (entered with nsenter: `ip netns exec` would remount /sys, hiding the cgroup hierarchies).
podman_in() {   # podman_in NAMESPACE WORK ARGS...
    local namespace=$1 dir=$2
    shift 2
    timeout 120 nsenter --net="/run/netns/$namespace" \
        env CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf" TMPDIR="$dir/tmp" \
        podman "$@" 9<&-
}

# Deletes the network namespaces named PREFIX*, killing what still runs in them first.
delete_namespaces() {   # delete_namespaces PREFIX
    local ns pid
    for ns in $(ip netns list | awk -v prefix="$1" 'index($1, prefix) == 1 { print $1 }'); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true   # takes the bridges, veths and tables with it
    done
}

# What podman writes outside its private directories whatever it is told: runc's state dir
# (/run/runc) and containers/image's blob info cache. note_podman_machine_files WORK records, in
# WORK, which of them are not there yet; remove_podman_machine_files WORK removes those the run made.
note_podman_machine_files() {
    [ -e /var/lib/containers/cache/blob-info-cache-v1.boltdb ] || touch "$1/created-blob-info-cache"
    [ -d /run/runc ] || touch "$1/created-run-runc"
}
remove_podman_machine_files() {
    if [ -f "$1/created-run-runc" ]; then
        rmdir /run/runc 2>/dev/null || true
    fi
    if [ -f "$1/created-blob-info-cache" ]; then
        rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
        rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true
    fi
}

# Removes the cgroups named PARENT (in the unified hierarchy and in every v1 one) that a runtime
# test's containers were put under, innermost first.
remove_cgroups() {   # remove_cgroups PARENT...
    local parent dir
    for parent in "$@"; do
        for dir in /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent"; do
            [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    return 0
}
