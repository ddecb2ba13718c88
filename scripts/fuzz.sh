#!/bin/sh
# Builds the libFuzzer targets with clang, ASan and UBSan into ./build-fuzz
# and runs each for a bounded time: fuzz_load (decode + validate + compile,
# FUZZ_SECONDS, default 60, seeded with the modules of the spec suite),
# fuzz_ipc (the IPC unpacker and request validators, FUZZ_IPC_SECONDS,
# default a third of that) and fuzz_broker (the supervisor's WASI path
# broker on hostile path requests, against roots with escaping symlinks and
# a sentinel outside them; FUZZ_BROKER_SECONDS, default a third too). Exits
# nonzero on any crash, leak, timeout, out-of-memory or broken invariant;
# the reproducer is left in build-fuzz/artifacts/.
set -eu
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
build=build-fuzz

./scripts/install-deps.sh
CC=clang cmake -S . -B "$build" -DSBX_FUZZ=ON -DSBX_SANITIZE=ON -DSBX_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_load fuzz_ipc fuzz_broker

# Seeds: every module wast2json writes from the suite (converted once).
seeds="$build/seeds"
if [ ! -e "$seeds/.complete" ]; then
    rm -rf "$seeds"
    mkdir -p "$seeds/tmp"
    suite="${SBX_SPEC_TESTSUITE:-../shared/spec/testsuite}"
    if [ -d "$suite" ]; then
        for wast in "$suite"/*.wast; do
            wast2json "$wast" -o "$seeds/tmp/$(basename "$wast" .wast).json"
        done
        mv "$seeds"/tmp/*.wasm "$seeds"/
    else
        echo "fuzz: spec suite not found at $suite; seeding with an empty module" >&2
        printf '\000asm\001\000\000\000' >"$seeds/empty.wasm"
    fi
    rm -rf "$seeds/tmp"
    touch "$seeds/.complete"
fi
corpus="$build/corpus" # grows across runs; libFuzzer adds new inputs here
mkdir -p "$corpus" "$build/artifacts"

# run_fuzzer NAME SECONDS LOG CORPUS...: one bounded run under ASan and
# UBSan; a crash, leak, timeout or broken invariant prints the log's tail
# and fails the script, the reproducer left in the artifacts directory.
run_fuzzer() {
    name=$1 secs=$2 log=$3
    shift 3
    status=0
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
        "$build/fuzz/$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$@" >"$log" 2>&1 ||
        status=$?
    if [ "$status" -ne 0 ]; then
        tail -n 80 "$log"
        echo "fuzz: $name FAILED (exit $status); full log in $log, reproducer in $build/artifacts/" >&2
        exit 1
    fi
    grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::)' "$log" || tail -n 5 "$log"
    echo "fuzz: $name: no crash, leak, timeout or broken invariant in ${secs}s"
}

echo "fuzz: running fuzz_load for ${seconds}s ($(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) corpus inputs)"
run_fuzzer fuzz_load "$seconds" "$build/fuzz.log" "$corpus" "$seeds"

ipc_seconds="${FUZZ_IPC_SECONDS:-$((seconds / 3 + 1))}"
mkdir -p "$build/corpus-ipc"
echo "fuzz: running fuzz_ipc for ${ipc_seconds}s"
run_fuzzer fuzz_ipc "$ipc_seconds" "$build/fuzz-ipc.log" "$build/corpus-ipc"

broker_seconds="${FUZZ_BROKER_SECONDS:-$((seconds / 3 + 1))}"
mkdir -p "$build/corpus-broker"
echo "fuzz: running fuzz_broker for ${broker_seconds}s"
run_fuzzer fuzz_broker "$broker_seconds" "$build/fuzz-broker.log" "$build/corpus-broker"
