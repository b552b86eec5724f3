# Shared helpers for the scripts: logging and installing what they need on Debian 12.
# shellcheck shell=bash

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The Debian packages the build, the tests and the demo need: libiptc/libmnl headers for the
# C boundary, legacy iptables tools to read the tables back, Debian's CNI plugins (bridge,
# host-local, and the Go portmap we compare against), iproute2 for namespaces, python3 for traffic.
install_packages() {
    local packages=(pkg-config libiptc-dev libmnl-dev iptables containernetworking-plugins iproute2 python3 procps)
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
