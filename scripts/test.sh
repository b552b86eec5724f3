#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine, as root:
# installs the packages it needs, builds everything, runs unit, binary and network-namespace tests,
# a short fuzz run over the pure core, a podman runtime test through our plugin (once per backend),
# a containerd CRI runtime test, hostports against podman/netavark and Docker, and scripts/check.sh
# on the release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
use_swift
log "building (debug, with tests)"
swift build --build-tests
log "running the tests"
swift test --skip-build "$@"

# --- fuzzing: a short libFuzzer run over the pure core (scripts/fuzz.sh RUNS SECONDS) ---
log "short fuzz run"
scripts/fuzz.sh 20000 30

# --- a real runtime: podman (CNI backend) drives bridge + host-local + our plugin, per backend ---
# Both run (one after the other: they share namespace names); the script fails if either fails.
runtime_status=0
for backend in iptables nftables; do
    log "runtime test (podman, $backend backend)"
    scripts/runtime-test.sh --backend "$backend" || runtime_status=1
done
# --- kubelet's path: our CRI client -> containerd 1.6 -> our plugin, per place rules can live, after
# proving once that its checks fail when the plugin installs nothing ---
log "runtime test (containerd CRI): validation with a portmap that installs nothing"
scripts/runtime-test-containerd.sh --validate || runtime_status=1
for backend in iptables iptables-nft nftables; do
    log "runtime test (containerd CRI, $backend)"
    scripts/runtime-test-containerd.sh --backend "$backend" || runtime_status=1
done
# --- hostports against the forwarders Debian ships: podman with netavark, and Docker ---
log "runtime test (hostports: podman/netavark and docker)"
scripts/runtime-test-forwarders.sh || runtime_status=1
log "checks of the release binaries"
scripts/check.sh
exit "$runtime_status"
