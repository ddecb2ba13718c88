#!/bin/sh
# README command 2: installs what is missing, builds sbx and its tests into
# ./build with warnings as errors, and runs every test with ctest. The last
# lines printed are ctest's own summary; the exit status is nonzero if any
# test failed. (.ci/run calls this, then scripts/fuzz.sh.)
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -DSBX_WERROR=ON -DSBX_TESTS=ON
cmake --build build -j "$(nproc)"
exec ctest --test-dir build --output-on-failure -j "$(nproc)"
