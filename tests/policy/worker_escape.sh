#!/bin/sh
# One escape attempt through the real path: `sbx_escape run` (sbx with the
# test-only escape harness in its workers) starts a zygote, which forks a
# worker that confines itself with the default policy and then makes the
# forbidden call natively. It must end as a reported policy violation
# naming that call (exit 159), never as success.
# Usage: worker_escape.sh SBX_ESCAPE MODULE.wasm OP SYSCALL_NAME
sbx=$1 wasm=$2 op=$3 name=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
err=$(SBX_ESCAPE_TRY=$op "$sbx" run --dir "$dir::/d" "$wasm" 2>&1 >/dev/null)
rc=$?
case "$err" in
*"policy violation: system call $name ("*) ;;
*) echo "escape $op: expected a violation naming $name, got: $err"; exit 1 ;;
esac
[ $rc -eq 159 ] || { echo "escape $op: exit status $rc, expected 159"; exit 1; }
echo "escape $op: stopped ($name), exit 159"
