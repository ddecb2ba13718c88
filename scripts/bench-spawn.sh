#!/bin/sh
# Fork-server benchmarks (issue 5, "Speed"), each against its native peer in
# the same run. A benchmark, never a test. Builds an optimised sbx into
# ./build-bench (override with SBX_BENCH_BUILD=DIR) and prints:
#
#  1. spawn latency and throughput through `sbx serve` (bench/spawn): one
#     client and two concurrent clients, request -> Spawned and request ->
#     Outcome p50/p99, spawns/s, and the zygote/worker cost split, vs
#     fork+exec of a static native program that does nothing (one and two
#     loops at once); then the floors of this machine in the same run: a
#     message round trip between two processes (one CPU, two CPUs) and
#     bare fork + _exit + waitpid per second;
#  2. memory per idle keep-alive worker (bench/memory): Pss and private
#     pages per worker, and whether code and image pages are shared, vs N
#     idle static native processes and N node processes of the same module.
#
#   scripts/bench-spawn.sh [N [WORKERS [NODE_N]]]
#     N spawns per configuration (default 2000), WORKERS idle workers
#     (default 50), NODE_N node processes (default WORKERS; 0 skips node)
set -eu
cd "$(dirname "$0")/.."
build="${SBX_BENCH_BUILD:-build-bench}"
n="${1:-2000}"
workers="${2:-50}"
node_n="${3:-$workers}"
if ! command -v node >/dev/null 2>&1; then node_n=0; fi

if [ -z "${SBX_BENCH_NO_DEPS:-}" ]; then ./scripts/install-deps.sh; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSBX_SANITIZE=OFF -DSBX_WERROR=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target sbx bench_spawn bench_native_nop bench_spawn_wasm \
    bench_idle_mem bench_native_idle >/dev/null

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "uptime: $(uptime)"
echo
echo "== 1. spawn latency and throughput through sbx serve (default policy: every worker confined)"
"$build/bench/spawn/bench_spawn" "$build/supervisor/sbx" "$build/bench/spawn/nop.wasm" \
    "$build/bench/spawn/bench_native_nop" "$n"
echo
echo "== 2. memory per idle keep-alive worker"
"$build/bench/memory/bench_idle_mem" "$build/supervisor/sbx" "$build/bench/memory/bench_native_idle" \
    bench/memory/idle_node.mjs "$workers" "$node_n"
echo
echo "uptime at the end: $(uptime)"
