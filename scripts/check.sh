#!/usr/bin/env bash
# Checks of the built release binaries that no test can make from inside the package, run by
# scripts/test.sh after the tests:
# - the plugin links none of the hostports analysis: `nm` finds no symbol of the `Diagnostics`
#   module in `portmap` (Swift mangles a module name as its length and name, `11Diagnostics`),
#   while it finds them in `hostports`, so the check is known to see them where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

use_swift
release_args=$(release_build_args)   # a failure stops the script here (set -e)
mapfile -t build_args <<<"$release_args"
swift build "${build_args[@]}" --product portmap
swift build "${build_args[@]}" --product hostports
bin=$(swift build "${build_args[@]}" --show-bin-path)

diagnostics_symbols() { nm "$1" | grep -c '11Diagnostics' || true; }
in_hostports=$(diagnostics_symbols "$bin/hostports")
in_portmap=$(diagnostics_symbols "$bin/portmap")
if [ "$in_hostports" -eq 0 ]; then
    log "check: nm finds no Diagnostics symbol even in hostports: the check cannot see them"
    exit 1
fi
if [ "$in_portmap" -ne 0 ]; then
    log "check: the plugin links $in_portmap Diagnostics symbols (hostports' analysis), e.g.:"
    nm "$bin/portmap" | grep "11Diagnostics" | head -5 >&2 || true
    exit 1
fi
log "check: no Diagnostics symbol in portmap ($in_hostports in hostports)"
