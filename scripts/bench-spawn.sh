#!/bin/sh
# Spawn latency and throughput through `sbx serve` vs fork+exec of a static
# native program, in one run (bench/spawn). A benchmark, never a test.
#   scripts/bench-spawn.sh [N]      (default 2000 spawns)
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
build=build
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target sbx bench_spawn bench_native_nop bench_spawn_wasm >/dev/null
"$build/bench/spawn/bench_spawn" "$build/supervisor/sbx" "$build/bench/spawn/nop.wasm" \
    "$build/bench/spawn/bench_native_nop" "${1:-2000}"
