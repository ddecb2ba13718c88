#!/bin/sh
# Builds an optimised, unsanitised sbx into ./build-bench and runs the
# front-end benchmark: decode and decode+validate throughput (MB/s) on a
# generated 32 MB module and on ruby.wasm (fetched from npm when possible),
# against node (V8) and wabt's wasm-validate in the same run. Extra
# arguments go to bench_decode (e.g. --runs 10). A benchmark, not a test.
set -eu
cd "$(dirname "$0")/.."

build=build-bench
inputs="$build/bench-inputs"

./scripts/install-deps.sh
# -O3 without -Werror: a new optimiser warning must not stop a benchmark
# (the test build, scripts/test.sh, is the one that treats warnings as errors).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSBX_SANITIZE=OFF -DSBX_WERROR=OFF \
    -DSBX_TESTS=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target sbx bench_decode gen_module bench_compile

mkdir -p "$inputs"
if [ ! -s "$inputs/generated-32mb.wasm" ]; then
    "$build/bench/frontend/gen_module" "$inputs/generated-32mb.wasm" 32
    if command -v wasm-validate >/dev/null 2>&1; then
        # The generator's output must be valid for any peer, not just sbx.
        wasm-validate "$inputs/generated-32mb.wasm"
    fi
fi
files="$inputs/generated-32mb.wasm"
if ./scripts/fetch-bench-inputs.sh "$inputs"; then
    files="$files $inputs/ruby.wasm $inputs/ruby+stdlib.wasm"
else
    echo "bench: ruby.wasm unavailable; benchmarking the generated module only" >&2
fi

echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "peers: node $(node --version 2>/dev/null || echo absent), wabt $(wasm-validate --version 2>/dev/null || echo absent)"
echo
# shellcheck disable=SC2086 # $files is a list of paths without spaces
"$build/bench/frontend/bench_decode" "$@" $files

echo
echo "compile throughput (sbx baseline, one core) vs V8 Liftoff (node, eager):"
"$build/bench/jit/bench_compile" $files
