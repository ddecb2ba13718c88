#!/bin/sh
# Limits of a worker, through `sbx run` (zygote, confined worker): a memory
# bomb ends as "memory limit", fd exhaustion is an error the guest sees,
# unbounded recursion traps, an endless loop stops at the timeout and at
# the fuel limit, and a guest writing into a closed pipe gets EPIPE (not a
# SIGPIPE). Usage: limits.sh SBX PROGS_DIR RUN_WASM
sbx=$1 progs=$2 runwasm=$3
failed=0
expect() { # expect NAME STATUS PATTERN OUTPUT
    [ "$2" = "$3" ] || { echo "FAIL $1: exit status $2, expected $3: $5"; failed=1; return; }
    case "$5" in *"$4"*) echo "ok $1" ;; *) echo "FAIL $1: no '$4' in: $5"; failed=1 ;; esac
}
out=$("$sbx" run --max-memory 16777216 "$progs/limit_memory.wasm" 2>&1)
expect memory_bomb $? 134 "the memory limit of 16777216 bytes was reached" "$out"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo x >"$dir/f"
out=$("$sbx" run --dir "$dir::/d" "$progs/limit_fds.wasm" /d/f 2>&1)
expect fd_exhaustion $? 0 "then: No file descriptors available" "$out"

out=$("$sbx" run "$progs/limit_stack.wasm" 2>&1)
expect deep_recursion $? 134 "call stack exhausted" "$out"

out=$("$sbx" run --invoke spin --timeout 300 "$runwasm" 2>&1)
expect endless_loop_timeout $? 124 "timed out after 300 ms" "$out"

out=$("$sbx" run --invoke spin --fuel 1000000 "$runwasm" 2>&1)
expect endless_loop_fuel $? 134 "fuel" "$out"

# An output flood into a pipe whose reader stops: EPIPE to the guest.
("$sbx" run --timeout 10000 "$progs/limit_flood.wasm" 2>"$dir/flood.err"; echo $? >"$dir/flood.rc") |
    head -c 100000 >/dev/null
expect output_to_a_closed_pipe "$(cat "$dir/flood.rc")" 3 "write: Broken pipe" "$(cat "$dir/flood.err")"
exit $failed
