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
