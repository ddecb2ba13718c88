#!/bin/bash
# Shrinks a module saved by scripts/diff-fuzz.sh while it keeps the same kind
# of mismatch (compare.mjs's COMPARE_KIND line, e.g. "mismatch outcome
# sbx:trap memory-oob node:result"), with binaryen's wasm-reduce.
# usage: tests/diff/reduce.sh FAILURE_DIR/m.wasm OUT.wasm [PATH/diff_sbx]
# Then: wasm2wat --enable-all OUT.wasm, and hand-reduce the rest.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
in="$1"
outw="$2"
runner="${3:-$root/build-diff/tests/diff/diff_sbx}"
work="$(mktemp -d "${TMPDIR:-/tmp}/diff-reduce.XXXXXX")"
cat >"$work/check.sh" <<EOS
#!/bin/bash
# Prints the kind of disagreement between sbx and node on \$1.
timeout -k 2 10 "$runner" "\$1" >"$work/s.txt" 2>/dev/null
rc=\$?
timeout -k 2 10 node --experimental-wasm-type-reflection "$here/diff_node.mjs" "\$1" >"$work/n.txt" 2>/dev/null
if [ \$rc -ne 0 ]; then echo "sbx-status \$rc"; exit 0; fi
COMPARE_KIND=1 node "$here/compare.mjs" "$work/s.txt" "$work/n.txt"
exit 0
EOS
chmod +x "$work/check.sh"
echo "reduce: keeping: $("$work/check.sh" "$in")"
features="--mvp-features --enable-sign-ext --enable-mutable-globals \
--enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue"
wasm-reduce "$in" "--command=$work/check.sh $work/t.wasm" -t "$work/t.wasm" -w "$outw" \
    -b "$(dirname "$(command -v wasm-opt)")" --timeout 20 -ef "$features" $features >"$work/reduce.log" 2>&1 || {
    tail -20 "$work/reduce.log"
    exit 1
}
echo "reduce: $(wc -c <"$in") -> $(wc -c <"$outw") bytes: $outw"
rm -rf "$work"
