#!/usr/bin/env bash
# Builds the release plugin and the `hostports` diagnostics command with the Swift runtime and the
# C++ runtime linked in statically (see `release_build_args`; nothing to install on the node but the
# binaries) and installs them into a CNI bin directory as `portmap` and `hostports`.
#   scripts/install.sh [DIR]    (default: /opt/cni/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

destination=${1:-/opt/cni/bin}
use_swift
log "building the release binaries"
release_args=$(release_build_args)   # a failure stops the script here (set -e)
mapfile -t build_args <<<"$release_args"
swift build "${build_args[@]}" --product portmap
swift build "${build_args[@]}" --product hostports
bin=$(swift build "${build_args[@]}" --show-bin-path)
# The plugin runs as root from a directory other programs are dropped into: it must take its
# libraries from the system's search path only, never from next to itself ($ORIGIN).
for program in portmap hostports; do
    if readelf -d "$bin/$program" | grep -qE '\((RUNPATH|RPATH)\)'; then
        log "$bin/$program has a library search path of its own: $(readelf -d "$bin/$program" | grep -E 'R(UN)?PATH')"
        exit 1
    fi
done
mkdir -p "$destination"
for program in portmap hostports; do
    install -m 0755 "$bin/$program" "$destination/$program.new"
    mv -f "$destination/$program.new" "$destination/$program"   # atomic: a runtime never sees half a file
    log "installed $destination/$program"
done
