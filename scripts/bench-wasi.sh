#!/bin/sh
# WASI benchmarks (issue 7, "Speed"), each against its peers in the same run.
# A benchmark, never a test. Builds an optimised sbx into ./build-bench
# (override with SBX_BENCH_BUILD=DIR) and prints three tables:
#
#  1. cold `sbx run hello.wasm` end to end (bench/wasi/bench_cold_run) vs
#     fork+exec of a static native hello, node's WASI on the same .wasm and
#     a warm `sbx --connect` run; p50/p99 over RUNS runs, interleaved;
#  2. real programs built by scripts/build-wasi-programs.sh: bzip2 -9
#     compress and decompress of a ~10 MB file in a preopened directory, and
#     a sqlite3 workload (inserts in a transaction, an index, queries) on a
#     database file there; sbx run vs the native build vs node's WASI on the
#     same .wasm; median of REPS wall times, interleaved, ratios to native;
#  3. path_open through the broker vs a native openat (bench_path_open).
#
#   scripts/bench-wasi.sh [RUNS [REPS]]     (defaults 200 and 5)
#   SBX_BENCH_SKIP="cold programs path_open"  skips parts; SBX_BENCH_NO_NODE=1 skips node
set -eu
cd "$(dirname "$0")/.."
repo="$(pwd)"
runs="${1:-200}"
reps="${2:-5}"
skip="${SBX_BENCH_SKIP:-}"
build="${SBX_BENCH_BUILD:-build-bench}"

if [ -z "${SBX_BENCH_NO_DEPS:-}" ]; then ./scripts/install-deps.sh; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSBX_SANITIZE=OFF -DSBX_WERROR=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target sbx examples bench_cold_run bench_native_hello \
    bench_path_open >/dev/null
sbx="$repo/$build/supervisor/sbx"
have_node=0
if [ -z "${SBX_BENCH_NO_NODE:-}" ] && command -v node >/dev/null 2>&1; then have_node=1; fi

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "peers: node $(node --version 2>/dev/null || echo absent), gcc $(gcc -dumpfullversion)"
echo "uptime: $(uptime)"

case " $skip " in *" cold "*) ;; *)
    echo
    echo "== 1. cold run of a trivial WASI module (examples/hello.c via wasi-libc)"
    "$build/bench/wasi/bench_cold_run" "$sbx" "$build/examples/hello.wasm" \
        "$build/bench/wasi/bench_native_hello" scripts/wasi-run-node.mjs "$runs"
    ;;
esac

case " $skip " in *" programs "*) ;; *)
    echo
    echo "== 2. real programs: sbx run vs native vs node WASI (wall time, median of $reps, interleaved)"
    progs="$build/wasi-programs"
    rc=0
    ./scripts/build-wasi-programs.sh "$progs" >/dev/null 2>"$build/wasi-programs.log" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "skipped: scripts/build-wasi-programs.sh exited $rc:"
        tail -n 3 "$build/wasi-programs.log"
    else
        progs="$(cd "$progs" && pwd)"
        work="$(mktemp -d)"
        trap 'rm -rf "$work"' EXIT
        # ~10 MB of mixed text and binary, deterministic for a given build.
        { cat "$progs"/src/sqlite3/src/*.c "$progs"/src/sqlite3/src/*.h 2>/dev/null || true
          cat "$progs/sqlite3.wasm" "$progs/sqlite3-native" "$progs/bzip2-native"
          cat "$progs"/src/sqlite3/src/*.c 2>/dev/null || true; } | head -c 10000000 >"$work/input"
        for e in sbx native node; do mkdir -p "$work/$e"; cp "$work/input" "$work/$e/input"; done
        "$progs/bzip2-native" -9 -c "$work/input" >"$work/input.bz2"
        for e in sbx native node; do cp "$work/input.bz2" "$work/$e/dec.bz2"; done
        node_run="node --experimental-wasi-unstable-preview1 --no-warnings $repo/scripts/wasi-run-node.mjs"
        sql="create table t(a integer primary key, b text not null, c real, d blob);
begin;
with recursive r(i) as (select 1 union all select i + 1 from r where i < 200000)
  insert into t(b, c, d) select printf('row%06d', i), i * 0.25, randomblob(16) from r;
commit;
create index t_b on t(b);
create index t_c on t(c);
select count(*), sum(c), min(b), max(b) from t;
select count(*) from t where b between 'row050000' and 'row150000';
select a % 10 as m, count(*), sum(c) from t group by m order by m;
select count(*) from t t1 join t t2 on t2.a = t1.a + 1 where t1.c > 1000;
update t set c = c * 2 where a % 3 = 0;
delete from t where a % 7 = 0;
select count(*), sum(c) from t;"

        # cmd ENGINE WORKLOAD: the command line (word-split on purpose).
        cmd() {
            d="$work/$1"
            case "$1:$2" in
                sbx:bzip2-9) echo "$sbx run --dir $d::/data --timeout 600000 $progs/bzip2.wasm -9 -k -f /data/input" ;;
                native:bzip2-9) echo "$progs/bzip2-native -9 -k -f $d/input" ;;
                node:bzip2-9) echo "$node_run --dir /data=$d $progs/bzip2.wasm -9 -k -f /data/input" ;;
                sbx:bzip2-d) echo "$sbx run --dir $d::/data --timeout 600000 $progs/bzip2.wasm -d -k -f /data/dec.bz2" ;;
                native:bzip2-d) echo "$progs/bzip2-native -d -k -f $d/dec.bz2" ;;
                node:bzip2-d) echo "$node_run --dir /data=$d $progs/bzip2.wasm -d -k -f /data/dec.bz2" ;;
                sbx:sqlite) echo "$sbx run --dir $d::/data --timeout 600000 $progs/sqlite3.wasm /data/t.db" ;;
                native:sqlite) echo "$progs/sqlite3-native $d/t.db" ;;
                node:sqlite) echo "$node_run --dir /data=$d $progs/sqlite3.wasm /data/t.db" ;;
            esac
        }
        engines="native sbx"
        if [ "$have_node" = 1 ]; then engines="native sbx node"; fi
        workloads="bzip2-9 bzip2-d sqlite"
        for _ in $(seq 1 "$reps"); do
            for w in $workloads; do
                for e in $engines; do
                    rm -f "$work/$e/t.db" "$work/$e/t.db-journal"
                    t0="$(date +%s%N)"
                    # shellcheck disable=SC2046,SC2091 # the command line is word-split and run on purpose
                    if [ "$w" = sqlite ]; then
                        $(cmd "$e" "$w") "$sql" >"$work/$e.$w.out" 2>"$work/$e.$w.err" || echo "$e $w failed: $(head -c 300 "$work/$e.$w.err")" >&2
                    else
                        $(cmd "$e" "$w") </dev/null >"$work/$e.$w.out" 2>"$work/$e.$w.err" || echo "$e $w failed: $(head -c 300 "$work/$e.$w.err")" >&2
                    fi
                    t1="$(date +%s%N)"
                    echo "$w $e $(((t1 - t0) / 1000))" >>"$work/times"
                done
            done
        done
        # The engines must agree: same .bz2, same decompressed bytes, same SQL output.
        for e in $engines; do
            cmp -s "$work/$e/input.bz2" "$work/input.bz2" || echo "WARNING: $e: input.bz2 differs from native bzip2's" >&2
            cmp -s "$work/$e/dec" "$work/input" || echo "WARNING: $e: decompressed bytes differ" >&2
            cmp -s "$work/$e.sqlite.out" "$work/native.sqlite.out" || echo "WARNING: $e: sqlite output differs from native's" >&2
        done
        echo "input: $(wc -c <"$work/input") bytes; sqlite: 200k-row insert in one transaction, 2 indexes, queries, update, delete"
        echo "uptime after: $(uptime)"
        awk -v engines="$engines" -v workloads="$workloads" '
            { t[$1 " " $2] = t[$1 " " $2] " " $3 }
            function median(s,   a, n, i, j, x) {
                n = split(s, a, " ")
                for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
            }
            function range(s,   a, n, i, lo, hi) {
                n = split(s, a, " "); lo = hi = a[1]
                for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
                return sprintf("%.2f-%.2f", lo / 1e6, hi / 1e6)
            }
            END {
                printf "%-10s %-7s %10s %14s %10s %12s\n", "workload", "engine", "median s", "min-max s", "vs native", "minus native"
                nw = split(workloads, W, " "); ne = split(engines, E, " ")
                for (i = 1; i <= nw; i++) {
                    nat = median(t[W[i] " native"])
                    for (j = 1; j <= ne; j++) {
                        m = median(t[W[i] " " E[j]])
                        printf "%-10s %-7s %10.3f %14s %9.2fx %+11.3f\n", W[i], E[j], m / 1e6, range(t[W[i] " " E[j]]), m / nat, (m - nat) / 1e6
                    }
                }
            }' "$work/times"
    fi
    ;;
esac

case " $skip " in *" path_open "*) ;; *)
    echo
    echo "== 3. path_open through the broker vs native openat"
    "$build/bench/wasi/bench_path_open"
    ;;
esac
echo
echo "uptime at the end: $(uptime)"
