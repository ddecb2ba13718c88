#!/bin/sh
# Two sbx binaries against each other, for a change's effect on spawn cost:
# A and B serve in turn, ROUNDS times each (alternating, since this kind of
# machine drifts by tens of percent within minutes), and each round times
# SPAWNS back-to-back spawns per client (bench/spawn/spawn_loop) and the
# whole machine's CPU over them (/proc/stat: every process the spawns cost,
# kernel threads included). Prints each round, then the medians and the
# median of the paired B/A ratios. A benchmark, never a test.
#
#   scripts/bench-ab.sh SBX_A SBX_B [ROUNDS [SPAWNS [CLIENTS]]]
#     defaults: 6 rounds, 3000 spawns, 1 client. Build the two binaries
#     first (e.g. a worktree of the previous commit); the load is built
#     here into ./build-bench (SBX_BENCH_BUILD=DIR to change).
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 SBX_A SBX_B [ROUNDS [SPAWNS [CLIENTS]]]" >&2; exit 2; }
a="$1" b="$2" rounds="${3:-6}" n="${4:-3000}" clients="${5:-1}"
. scripts/spawn-load.sh
dir=$(mktemp -d)
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; } # user nice system irq softirq
now_ns() { date +%s%N; }

round() { # SBX TAG
    rm -f "$dir/s.sock"
    "$1" serve --socket "$dir/s.sock" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    i=0
    while [ ! -S "$dir/s.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    "$loop" "$dir/s.sock" "$wasm" 500 # warm-up: warm workers, a template
    c0=$(busy) t0=$(now_ns) pids=""
    k=0
    while [ $k -lt "$clients" ]; do
        "$loop" "$dir/s.sock" "$wasm" "$n" &
        pids="$pids $!"
        k=$((k + 1))
    done
    for p in $pids; do wait "$p"; done
    c1=$(busy) t1=$(now_ns)
    kill "$(cat "$dir/pid")"; wait "$(cat "$dir/pid")" 2>/dev/null || true
    total=$((n * clients))
    tick_us=$((1000000 / $(getconf CLK_TCK)))
    echo "$2 $(((c1 - c0) * tick_us / total)) $((total * 1000000000 / (t1 - t0)))"
}

echo "round: binary, CPU us per spawn (whole machine), spawns/s"
r=0
while [ $r -lt "$rounds" ]; do
    round "$a" A
    round "$b" B
    r=$((r + 1))
done | tee "$dir/rounds"
awk '
function median(v, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
$1 == "A" { na++; ca[na] = $2; ra[na] = $3 }
$1 == "B" { nb++; cb[nb] = $2; rb[nb] = $3; cr[nb] = $2 / ca[nb]; rr[nb] = $3 / ra[nb] }
END {
    printf "A: median %d us CPU per spawn, %d spawns/s\n", median(ca, na), median(ra, na)
    printf "B: median %d us CPU per spawn, %d spawns/s\n", median(cb, nb), median(rb, nb)
    printf "B/A, median of the %d paired rounds: CPU per spawn %.3fx, spawns/s %.3fx\n", nb, median(cr, nb), median(rr, nb)
}' "$dir/rounds"
