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

echo "fuzz: running fuzz_load for ${seconds}s ($(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) corpus inputs)"
log="$build/fuzz.log"
status=0
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    "$build/fuzz/fuzz_load" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$corpus" "$seeds" \
    >"$log" 2>&1 || status=$?

if [ "$status" -ne 0 ]; then
    tail -n 80 "$log"
    echo "fuzz: FAILED (exit $status); full log in $log, reproducer in $build/artifacts/" >&2
    exit 1
fi
grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::)' "$log" || tail -n 5 "$log"
echo "fuzz: no crash, leak or timeout in ${seconds}s"

ipc_seconds="${FUZZ_IPC_SECONDS:-$((seconds / 3 + 1))}"
ipc_corpus="$build/corpus-ipc"
mkdir -p "$ipc_corpus"
echo "fuzz: running fuzz_ipc for ${ipc_seconds}s"
log="$build/fuzz-ipc.log"
status=0
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    "$build/fuzz/fuzz_ipc" -max_total_time="$ipc_seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$ipc_corpus" \
    >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 80 "$log"
    echo "fuzz: fuzz_ipc FAILED (exit $status); full log in $log, reproducer in $build/artifacts/" >&2
    exit 1
fi
grep -E '^(Done [0-9]+ runs)' "$log" || tail -n 5 "$log"
echo "fuzz: fuzz_ipc: no crash, leak or timeout in ${ipc_seconds}s"

broker_seconds="${FUZZ_BROKER_SECONDS:-$((seconds / 3 + 1))}"
broker_corpus="$build/corpus-broker"
mkdir -p "$broker_corpus"
echo "fuzz: running fuzz_broker for ${broker_seconds}s"
log="$build/fuzz-broker.log"
status=0
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    "$build/fuzz/fuzz_broker" -max_total_time="$broker_seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$broker_corpus" \
    >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 80 "$log"
    echo "fuzz: fuzz_broker FAILED (exit $status); full log in $log, reproducer in $build/artifacts/" >&2
    exit 1
fi
grep -E '^(Done [0-9]+ runs)' "$log" || tail -n 5 "$log"
echo "fuzz: fuzz_broker: no crash, leak, timeout or broken invariant in ${broker_seconds}s"
