#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine, as root:
# installs the packages it needs, builds everything, runs unit, binary and network-namespace tests,
# a short fuzz run over the pure core, and a podman runtime test through our plugin.
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

# --- a real runtime: podman (CNI backend) drives bridge + host-local + our plugin ---
log "runtime test (podman)"
scripts/runtime-test.sh
