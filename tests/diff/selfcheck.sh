#!/bin/bash
# Checks that the differential harness can fail (issue 4):
#  1. compare.mjs on hand-written transcript pairs (selfcheck/cases/): the
#     file name's prefix is the expected verdict (agree-, mismatch-, invalid-);
#  2. the .wat modules in selfcheck/ run through diff_sbx and node: they must
#     agree (this also pins the trap-message mapping to V8's real wording),
#     and the node transcript of ops.wat with one result altered, or with one
#     trap replaced by another category, must be a mismatch.
# usage: selfcheck.sh PATH/diff_sbx WORKDIR. Exit 0 pass, 1 fail, 77 skip.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
runner="$1"
work="$2"
if ! command -v node >/dev/null 2>&1; then echo "SKIP: node not found"; exit 77; fi
if ! command -v wat2wasm >/dev/null 2>&1; then echo "SKIP: wat2wasm not found"; exit 77; fi
mkdir -p "$work"
fail=0
expect() { # expect VERDICT SBX NODE LABEL
    local got rc
    got="$(node "$here/compare.mjs" "$2" "$3")"
    rc=$?
    case "$1:$rc" in
    agree:0 | mismatch:1 | invalid:3) echo "ok   $4: $got" ;;
    *) echo "FAIL $4: expected $1, got (rc $rc) $got"; fail=1 ;;
    esac
}

for s in "$here"/selfcheck/cases/*.sbx; do
    name="$(basename "$s" .sbx)"
    expect "${name%%-*}" "$s" "${s%.sbx}.node" "cases/$name"
done

for wat in "$here"/selfcheck/*.wat; do
    name="$(basename "$wat" .wat)"
    wat2wasm "$wat" -o "$work/$name.wasm" || { echo "FAIL: wat2wasm $name"; fail=1; continue; }
    "$runner" "$work/$name.wasm" >"$work/$name.sbx" || { echo "FAIL: diff_sbx $name"; fail=1; }
    # fuel.wat loops forever in node: the timeout cuts it short.
    timeout -k 2 5 node --experimental-wasm-type-reflection "$here/diff_node.mjs" \
        "$work/$name.wasm" >"$work/$name.node"
    expect agree "$work/$name.sbx" "$work/$name.node" "$name.wat"
done

# Deliberately altered oracles must be caught.
sed 's/^result i32:0x00000003$/result i32:0x00000004/' "$work/ops.node" >"$work/ops-result.node"
expect mismatch "$work/ops.sbx" "$work/ops-result.node" "ops.wat with an altered result"
sed 's/^trap divide result unrepresentable$/trap divide by zero/' "$work/ops.node" >"$work/ops-trap.node"
expect mismatch "$work/ops.sbx" "$work/ops-trap.node" "ops.wat with an altered trap"
grep -v '^log log-f32' "$work/ops.node" >"$work/ops-log.node"
expect mismatch "$work/ops.sbx" "$work/ops-log.node" "ops.wat with a host call dropped"
for f in ops-result ops-trap ops-log; do
    if cmp -s "$work/ops.node" "$work/$f.node"; then echo "FAIL: $f: the alteration changed nothing"; fail=1; fi
done
# The ops.wat transcript must contain every trap category.
for cat in unreachable "integer divide by zero" "integer overflow" "invalid conversion" \
    "out of bounds memory" "undefined element" "out of bounds table" "uninitialized element" \
    "indirect call type mismatch"; do
    grep -q "^trap $cat" "$work/ops.sbx" || { echo "FAIL: ops.wat has no '$cat' trap"; fail=1; }
done
[ $fail -eq 0 ] && echo "selfcheck passed"
exit $fail
