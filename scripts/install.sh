#!/usr/bin/env bash
# Builds the release plugin and the `hostports` diagnostics command with the Swift runtime linked
# in statically (nothing to install on the node but the binaries) and installs them into a CNI bin
# directory as `portmap` and `hostports`.
#   scripts/install.sh [DIR]    (default: /opt/cni/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

destination=${1:-/opt/cni/bin}
use_swift
log "building the release binaries"
swift build -c release --static-swift-stdlib --product portmap
swift build -c release --static-swift-stdlib --product hostports
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
mkdir -p "$destination"
for program in portmap hostports; do
    install -m 0755 "$bin/$program" "$destination/$program.new"
    mv -f "$destination/$program.new" "$destination/$program"   # atomic: a runtime never sees half a file
    log "installed $destination/$program"
done
