# Shared helpers for the scripts: logging and installing what they need on Debian 12.
# shellcheck shell=bash

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The Debian packages the build, the tests and the demo need: libiptc/libmnl/libnftnl headers for
# the C boundary, legacy iptables tools and nft to read the tables back, Debian's CNI plugins
# (bridge, host-local, and the Go portmap we compare against), iproute2 for namespaces, python3 for traffic.
install_packages() {
    local packages=(pkg-config libiptc-dev libmnl-dev libnftnl-dev iptables nftables containernetworking-plugins iproute2 python3 procps)
    if [ "$(id -u)" != 0 ]; then
        log "not root: skipping package installation (${packages[*]})"
        return
    fi
    log "installing Debian packages: ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
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
# symbols, and lld packs its 16,000 relative relocations into a RELR table (glibc >= 2.36): the
# dynamic loader then maps only libc, libm, libiptc and libmnl and has little left to relocate, which
# takes about 0.4 ms and 1.4 MiB of resident memory off every plugin run (VERSION: 1.35 instead of
# 1.79 ms, 5.1 instead of 6.5 MiB). SwiftPM's static link line names `-lstdc++`; a search directory
# holding only libstdc++.a, searched before gcc's own, makes that resolve to the archive.
release_build_args() {
    local archive directory=.build/static-libstdcxx
    archive=$(gcc -print-file-name=libstdc++.a)
    mkdir -p "$directory"
    ln -sf "$archive" "$directory/libstdc++.a"
    printf '%s\n' -c release --static-swift-stdlib -Xlinker "-L$PWD/$directory" -Xlinker --no-export-dynamic \
        -Xswiftc -Xclang-linker -Xswiftc -static-libgcc -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs
}
