#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine, as root:
# installs the packages it needs, builds everything, runs unit, binary and network-namespace tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
use_swift
log "building (debug, with tests)"
swift build --build-tests
log "running the tests"
swift test --skip-build "$@"
