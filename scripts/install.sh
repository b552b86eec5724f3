#!/usr/bin/env bash
# Builds the release plugin with the Swift runtime linked in statically (nothing to install on the
# node but the binary) and installs it as `portmap` into a CNI bin directory.
#   scripts/install.sh [DIR]    (default: /opt/cni/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

destination=${1:-/opt/cni/bin}
use_swift
log "building the release binary"
swift build -c release --static-swift-stdlib --product portmap
binary=$(swift build -c release --static-swift-stdlib --show-bin-path)/portmap
mkdir -p "$destination"
install -m 0755 "$binary" "$destination/portmap.new"
mv -f "$destination/portmap.new" "$destination/portmap"   # atomic: a runtime never sees half a file
log "installed $destination/portmap"
