#!/bin/bash
# Differential fuzzing of sbx against node (issue 4). Generates random
# modules with binaryen's `wasm-opt --translate-to-fuzz`, runs each in sbx
# (tests/diff/diff_sbx) and in node (tests/diff/diff_node.mjs), and compares
# the two transcripts (tests/diff/compare.mjs). A mismatch saves the module,
# its random input and both transcripts under the output directory.
#
# usage: scripts/diff-fuzz.sh [SECONDS | --seconds S] [--count N]
#                             [--runner PATH/diff_sbx] [--out DIR] [--keep]
#   A bare number is a time budget in seconds (default 60); --count stops
#   after N modules; with both, whichever comes first.
#   Environment: DIFF_SEED seeds the size choices; DIFF_MAX_INPUT is the
#   largest random input for wasm-opt -ttf (default 30000 bytes).
# Exit status: 0 no mismatch, 1 mismatches, 77 skipped (binaryen or node
# missing), 2 usage or setup error. Last line:
#   "N modules, N compared calls, N mismatches"
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=""
count=""
runner=""
out="$root/build/diff-failures"
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --runner) runner="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *[!0-9]*|"") echo "diff-fuzz: bad argument: $1" >&2; exit 2 ;;
    *) seconds="$1"; shift ;;
    esac
done
[ -z "$seconds" ] && [ -z "$count" ] && seconds=60

if ! command -v wasm-opt >/dev/null 2>&1; then
    echo "SKIP: binaryen's wasm-opt not found (scripts/install-deps.sh installs it)"
    exit 77
fi
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not found"
    exit 77
fi
if [ -z "$runner" ]; then
    for b in build-diff build; do
        if [ -x "$root/$b/tests/diff/diff_sbx" ]; then runner="$root/$b/tests/diff/diff_sbx"; break; fi
    done
fi
if [ -z "$runner" ] || [ ! -x "$runner" ]; then
    echo "diff-fuzz: no diff_sbx runner; build it (cmake --build build --target diff_sbx) or pass --runner" >&2
    exit 2
fi
[ -n "${DIFF_SEED:-}" ] && RANDOM=$DIFF_SEED

node_runner="$root/tests/diff/diff_node.mjs"
compare="$root/tests/diff/compare.mjs"
work="$(mktemp -d "${TMPDIR:-/tmp}/diff-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The features sbx compiles. Binaryen 108's reference-types fuzzing emits
# typed function references (`(ref $t)` block types, ref.as_non_null) and
# treats funcref as a subtype of externref ("anyref"), which no 2.0 engine
# accepts, so most modules get generated without reference types; every
# eighth one enables them, and then usually both engines must reject it (a
# validation differential; the few valid ones are run).
base_features="--mvp-features --enable-sign-ext --enable-mutable-globals
    --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue"

# run_pair WASM SBX_OUT NODE_OUT: runs both engines and the comparator;
# sets verdict (compare.mjs's line), crc (its status: 0 agree, 1 mismatch,
# 3 both rejected) and src (diff_sbx's status; nonzero is a mismatch).
run_pair() {
    # shellcheck disable=SC2086
    timeout -k 5 30 "$runner" $sbx_flags "$1" >"$2" 2>"$work/sbx.err"
    src=$?
    timeout -k 5 20 node --experimental-wasm-type-reflection "$node_runner" "$1" \
        >"$3" 2>"$work/node.err"
    local nrc=$?
    if [ $nrc -eq 124 ] || [ $nrc -eq 137 ]; then node_timeouts=$((node_timeouts + 1)); fi
    verdict="$(node "$compare" "$2" "$3")"
    crc=$?
    if [ "$src" -eq 124 ] && { [ $nrc -eq 124 ] || [ $nrc -eq 137 ]; }; then
        # Only without fuel: both engines ran into the same endless loop.
        verdict="agree 0 both timed out"
        crc=0
        src=0
    elif [ "$src" -ne 0 ] && [ "$crc" -ne 1 ]; then
        # A crash or timeout of the sbx runner is a failure whatever the
        # transcripts say.
        verdict="mismatch 0 diff_sbx exited with status $src: $(tail -1 "$work/sbx.err")"
        crc=1
    fi
}

modules=0
nan_only=0
calls=0
mismatches=0
invalid=0
stopped_fuel=0
stopped_stack=0
node_timeouts=0
start=$(date +%s)
while :; do
    if [ -n "$count" ] && [ "$modules" -ge "$count" ]; then break; fi
    if [ -n "$seconds" ] && [ $(( $(date +%s) - start )) -ge "$seconds" ]; then break; fi
    i=$modules
    size=$(( 1024 + (RANDOM * 32768 + RANDOM) % ${DIFF_MAX_INPUT:-30000} ))
    # Vary the generator: every 8th module enables reference types (see
    # above), some are optimized by binaryen first (other code shapes), some
    # avoid out-of-bounds accesses (longer runs without traps).
    features="$base_features"
    extra=""
    case $(( i % 8 )) in
    1 | 4) extra="-O2" ;;
    2) extra="--no-fuzz-oob" ;;
    5) extra="-O3 --no-fuzz-oob" ;;
    6) extra="-Os" ;;
    7) features="$features --enable-reference-types" ;;
    esac
    # Compile variants in sbx: metered (the default), unmetered, with epochs.
    case $(( i % 3 )) in
    0) sbx_flags="" ;;
    1) sbx_flags="--no-fuel" ;;
    2) sbx_flags="--epoch" ;;
    esac
    head -c "$size" /dev/urandom >"$work/in.bin"
    # shellcheck disable=SC2086
    if ! wasm-opt "$work/in.bin" -ttf $features $extra -o "$work/m.wasm" 2>"$work/gen.err"; then
        echo "diff-fuzz: wasm-opt failed on input $i (skipped):" >&2
        head -3 "$work/gen.err" >&2
        continue
    fi
    modules=$((modules + 1))
    rm -rf "$work/keep"; mkdir -p "$work/keep"
    run_pair "$work/m.wasm" "$work/sbx.txt" "$work/node.txt"
    if [ "$crc" -eq 1 ] && [ "$src" -eq 0 ]; then
        # NaN payloads and signs are nondeterministic in the spec (V8
        # canonicalizes where sbx propagates, e.g. f64.max), and they leak
        # into integers through reinterpretations and memory. Run the module
        # again with every float result de-NaN-ed (binaryen's --denan: NaN
        # becomes 0): if the engines agree then, file the difference as
        # NaN-only; otherwise it stays a mismatch.
        # shellcheck disable=SC2086
        if wasm-opt "$work/m.wasm" $features --denan -o "$work/denan.wasm" 2>/dev/null; then
            first="$verdict"
            run_pair "$work/denan.wasm" "$work/sbx-denan.txt" "$work/node-denan.txt"
            if [ "$crc" -eq 0 ]; then
                nan_only=$((nan_only + 1))
                d="$out/nan-$(date +%Y%m%d-%H%M%S)-$i-$$"
                mkdir -p "$d"
                cp "$work/m.wasm" "$work/sbx.txt" "$work/node.txt" "$d/"
                echo "$first" >"$d/verdict.txt"
                echo "nan-only difference in module $i (saved in $d): $first"
                verdict="$verdict (nan-only raw difference)"
            else
                cp "$work/denan.wasm" "$work/sbx-denan.txt" "$work/node-denan.txt" "$work/keep/" 2>/dev/null
                verdict="$first (also with --denan: $verdict)"
                crc=1
            fi
        fi
    fi
    n="${verdict#* }"; n="${n%% *}"
    case "$crc" in
    0)
        calls=$((calls + n))
        case "$verdict" in
        *"out of fuel"*) stopped_fuel=$((stopped_fuel + 1)) ;;
        *"stack exhausted"*) stopped_stack=$((stopped_stack + 1)) ;;
        esac
        if [ "$keep" = 1 ]; then
            d="$out/ok-$i"; mkdir -p "$d"; cp "$work/m.wasm" "$work/sbx.txt" "$work/node.txt" "$d/"
        fi
        ;;
    3) invalid=$((invalid + 1)) ;;
    *)
        calls=$((calls + n))
        mismatches=$((mismatches + 1))
        d="$out/$(date +%Y%m%d-%H%M%S)-$i-$$"
        mkdir -p "$d"
        cp "$work/in.bin" "$work/m.wasm" "$work/sbx.txt" "$work/node.txt" "$work/keep/"* "$d/" 2>/dev/null
        cat "$work/sbx.err" "$work/node.err" >"$d/stderr.txt" 2>/dev/null
        echo "$verdict" >"$d/verdict.txt"
        echo "diff_sbx flags: ${sbx_flags:-(none)}" >>"$d/verdict.txt"
        echo "MISMATCH module $i: $verdict"
        echo "  saved in $d"
        ;;
    esac
done
echo "($invalid modules rejected by both engines, $nan_only with NaN-only differences," \
    "$stopped_fuel stopped at sbx fuel exhaustion," \
    "$stopped_stack at stack exhaustion, $node_timeouts node timeouts)"
echo "$modules modules, $calls compared calls, $mismatches mismatches"
[ "$mismatches" -eq 0 ]
