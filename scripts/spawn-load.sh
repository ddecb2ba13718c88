# Sourced, from the repository's root, by the scripts that drive
# back-to-back spawns (bench-ab.sh, trace-spawns.sh): builds their load,
# bench/spawn/spawn_loop and nop.wasm, into ./build-bench
# (SBX_BENCH_BUILD=DIR to change), and sets $loop and $wasm to them.
build="${SBX_BENCH_BUILD:-build-bench}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSBX_SANITIZE=OFF -DSBX_WERROR=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target spawn_loop bench_spawn_wasm >/dev/null
loop="$build/bench/spawn/spawn_loop"
wasm="$build/bench/spawn/nop.wasm"
