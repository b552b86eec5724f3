#!/usr/bin/env bash
# Fuzzes the pure core with libFuzzer (from the Swift toolchain) under AddressSanitizer: every input
# is stdin for the JSON parser, config and prevResult decoding and ADD/CHECK/DEL of
# PortmapPlugin.run with an in-memory backend (Tests/Fuzz/FuzzPortmap.swift). No root, no kernel.
#
#   scripts/fuzz.sh [RUNS] [SECONDS]    # defaults: 1000000 runs, no time limit (0)
#
# Exits non-zero when libFuzzer reports a crash, a broken invariant, a hang (an input taking more
# than 10 s), a leak or more than 2 GB of memory; the input that did it is left in .build/fuzz/.
# Starts from the seeds in Tests/Fuzz/seeds and conf/ each time; what it finds goes to a temporary
# corpus that is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

runs=${1:-1000000}
seconds=${2:-0}
out=.build/fuzz
corpus=""

cleanup() {
    if [ -n "$corpus" ]; then rm -rf "$corpus"; fi
}
trap cleanup EXIT

use_swift
mkdir -p "$out"
log "building the fuzz target (libFuzzer + AddressSanitizer) into $out"
mapfile -t sources < <(find Sources/PortmapCore Tests/Fuzz -name '*.swift' | sort)
swiftc -O -g -swift-version 6 -parse-as-library -sanitize=fuzzer,address -use-ld=lld -module-name PortmapFuzz \
    "${sources[@]}" -o "$out/fuzz-portmap"

corpus=$(mktemp -d)
log "fuzzing: $runs runs, ${seconds}s limit (0: none)"
# Swift seeds Dictionary and Set hashing per process; fixed, a reported input replays the same way.
# Swift's own backtracer would race AddressSanitizer for the report of a crash; libFuzzer's is enough.
export SWIFT_DETERMINISTIC_HASHING=1 SWIFT_BACKTRACE=enable=no
status=0
"$out/fuzz-portmap" -runs="$runs" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=4096 -detect_leaks=1 -print_final_stats=1 \
    -dict=Tests/Fuzz/portmap.dict -artifact_prefix="$out/" \
    "$corpus" Tests/Fuzz/seeds conf || status=$?
if [ "$status" != 0 ]; then
    log "libFuzzer reported a failure (exit $status); replay with: SWIFT_DETERMINISTIC_HASHING=1 SWIFT_BACKTRACE=enable=no $out/fuzz-portmap $out/<crash|timeout|leak|oom>-*"
    exit "$status"
fi
log "fuzzing: no crash, hang or leak"
