#!/usr/bin/env bash
# Checks no test can make from inside the package, run by scripts/test.sh after the tests:
# - shellcheck finds nothing in the scripts, and `swift format lint --strict` nothing in the Swift
#   code under the committed .swift-format (warnings count);
# - the plugin links none of what only hostports uses: `nm` finds no symbol of the `Diagnostics`
#   or `HostScan` module in `portmap` (Swift mangles a module name as its length and name,
#   `11Diagnostics`), while it finds them in `hostports`, so the check is known to see them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

log "check: shellcheck on scripts/ and .ci/run"
shellcheck -x scripts/*.sh .ci/run

use_swift
log "check: swift format lint"
swift format lint --strict --recursive Sources Tests Package.swift

release_args=$(release_build_args)   # a failure stops the script here (set -e)
mapfile -t build_args <<<"$release_args"
swift build "${build_args[@]}" --product portmap
swift build "${build_args[@]}" --product hostports
bin=$(swift build "${build_args[@]}" --show-bin-path)

# The modules only hostports links, as Swift mangles them (length and name).
status=0
for module in 11Diagnostics 8HostScan; do
    in_hostports=$(nm "$bin/hostports" | grep -c "$module" || true)
    in_portmap=$(nm "$bin/portmap" | grep -c "$module" || true)
    if [ "$in_hostports" -eq 0 ]; then
        log "check: nm finds no $module symbol even in hostports: the check cannot see them"
        status=1
    elif [ "$in_portmap" -ne 0 ]; then
        log "check: the plugin links $in_portmap $module symbols (only hostports needs them), e.g.:"
        nm "$bin/portmap" | grep "$module" | head -5 >&2 || true
        status=1
    else
        log "check: no $module symbol in portmap ($in_hostports in hostports)"
    fi
done
exit "$status"
