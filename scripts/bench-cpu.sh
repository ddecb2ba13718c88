#!/bin/sh
# CPU benchmarks (bench/cpu): builds every program natively (gcc -O2) and as
# wasm32 (clang) into ./build/bench-cpu, runs native, node (V8) and sbx on the
# same machine in the same run, checks that all three agree on each
# checksum, and prints per-benchmark best-of-N times, the ratios sbx/native,
# sbx/node and node/native, and their geometric means. sbx is skipped, with
# the reason, while its harness (bench_cpu_sbx) does not build.
#
#   scripts/bench-cpu.sh [RUNS]      (best of RUNS calls each; default 5)
#
# A benchmark, not a test: exits 1 only when something fails to run or the
# checksums disagree.
set -eu
cd "$(dirname "$0")/.."

runs=${1:-5}
build=build/bench-cpu
programs="fib sieve nbody matmul sha256 sort mandelbrot hashtab nqueens crc32 interp"

# Release without -Werror: a new optimiser warning must not stop a benchmark.
# The native programs are built with -O2 whatever the build type.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSBX_SANITIZE=OFF -DSBX_WERROR=OFF \
    -DSBX_TESTS=ON >/dev/null
targets="bench_cpu_wasm"
for p in $programs; do targets="$targets bench_cpu_native_$p"; done
# shellcheck disable=SC2086 # lists of names without spaces
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null

out="$build/bench-cpu-results"
mkdir -p "$out"
wasm_dir="$build/bench/cpu/wasm"
wasms=""
for p in $programs; do wasms="$wasms $wasm_dir/$p.wasm"; done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "peers: gcc $(gcc -dumpfullversion) -O2, node $(node --version), clang $(clang -dumpversion) for wasm32"
echo "best of $runs calls each"
echo

: >"$out/native.txt"
for p in $programs; do
    "$build/bench/cpu/bench_cpu_native_$p" "$runs" >>"$out/native.txt"
done
# shellcheck disable=SC2086
node bench/cpu/run_node.mjs "$runs" $wasms >"$out/node.txt"

: >"$out/sbx.txt"
sbx_note=""
if cmake --build "$build" -j "$(nproc)" --target bench_cpu_sbx >"$out/sbx-build.log" 2>&1; then
    # shellcheck disable=SC2086
    if ! "$build/bench/cpu/bench_cpu_sbx" "$runs" $wasms >"$out/sbx.txt" 2>"$out/sbx-run.log"; then
        sbx_note="sbx: bench_cpu_sbx failed (see $out/sbx-run.log):
$(tail -n 5 "$out/sbx-run.log")"
    fi
else
    sbx_note="sbx: skipped, bench_cpu_sbx does not build yet (the instance runtime does not link; see $out/sbx-build.log)"
fi

# The table: one row per program; "-" where a column is missing.
awk -v programs="$programs" '
    FILENAME ~ /native\.txt$/ { nsum[$1] = $2; nt[$1] = $3 }
    FILENAME ~ /node\.txt$/   { jsum[$1] = $2; jt[$1] = $3 }
    FILENAME ~ /sbx\.txt$/    { ssum[$1] = $2; st[$1] = $3; sc[$1] = $4 }
    function ratio(a, b) { return (a != "" && b != "" && b > 0) ? a / b : "" }
    function cell(x) { return x == "" ? sprintf("%9s", "-") : sprintf("%9.3f", x) }
    function cellx(x) { return x == "" ? sprintf("%12s", "-") : sprintf("%11.2fx", x) }
    END {
        n = split(programs, p, " ")
        printf "%-11s %9s %9s %9s %12s %12s %12s  %s\n", "benchmark", "native s", "node s", \
               "sbx s", "sbx/native", "sbx/node", "node/native", "checksum"
        bad = 0
        for (i = 1; i <= n; i++) {
            b = p[i]
            sum = nsum[b]
            status = sum
            if (sum == "") { status = "MISSING native"; bad = 1 }
            else if (jsum[b] != "" && jsum[b] != sum) { status = "MISMATCH node " jsum[b] " native " sum; bad = 1 }
            else if (ssum[b] != "" && ssum[b] != sum) { status = "MISMATCH sbx " ssum[b] " native " sum; bad = 1 }
            else if (jsum[b] == "") { status = "MISSING node"; bad = 1 }
            r1 = ratio(st[b], nt[b]); r2 = ratio(st[b], jt[b]); r3 = ratio(jt[b], nt[b])
            if (r1 != "") { g1 += log(r1); c1++ }
            if (r2 != "") { g2 += log(r2); c2++ }
            if (r3 != "") { g3 += log(r3); c3++ }
            printf "%-11s %s %s %s %s %s %s  %s\n", b, cell(nt[b]), cell(jt[b]), cell(st[b]), \
                   cellx(r1), cellx(r2), cellx(r3), status
        }
        printf "%-11s %9s %9s %9s %s %s %s\n", "geomean", "", "", "", \
               cellx(c1 ? exp(g1 / c1) : ""), cellx(c2 ? exp(g2 / c2) : ""), \
               cellx(c3 ? exp(g3 / c3) : "")
        exit bad
    }' "$out/native.txt" "$out/node.txt" "$out/sbx.txt" || {
    echo
    echo "bench-cpu: checksums disagree or results are missing" >&2
    exit 1
}

if [ -s "$out/sbx.txt" ]; then
    echo
    echo "sbx compile time (s):"
    awk '{ printf "  %-11s %.6f\n", $1, $4 }' "$out/sbx.txt"
fi
if [ -n "$sbx_note" ]; then
    echo
    echo "$sbx_note"
    # A harness that builds but fails to run is an error; one that does not
    # build yet is not.
    case "$sbx_note" in *failed*) exit 1 ;; esac
fi
