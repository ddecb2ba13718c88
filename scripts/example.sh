#!/bin/sh
# README command 1: installs what is missing, builds sbx into ./build, then
# runs the main job on the bundled example: `sbx run` of examples/hello.c
# built for wasm32-wasi, then `sbx validate` and `sbx inspect` of it.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build
cmake --build build -j "$(nproc)"

echo
echo "\$ sbx run build/examples/hello.wasm"
./build/supervisor/sbx run build/examples/hello.wasm
echo
echo "\$ sbx validate build/examples/hello.wasm"
./build/supervisor/sbx validate build/examples/hello.wasm
echo "(valid: sbx validate printed nothing and exited 0)"
echo
echo "\$ sbx inspect build/examples/hello.wasm"
./build/supervisor/sbx inspect build/examples/hello.wasm
