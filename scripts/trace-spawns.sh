#!/bin/sh
# Where the time of back-to-back spawns goes, from the kernel's own trace:
# serves with SBX, makes WARMUP spawns, then records N back-to-back spawns
# of bench/spawn/nop.wasm (bench/spawn/spawn_loop) with ftrace's
# sched_switch, sched_wakeup and every system call's entry and exit, and
# hands the trace to scripts/spawn_timeline.py.
#
# Why ftrace and not `perf record -a`: perf's reader takes a CPU of its own
# and on a 2-CPU machine that changes the very scheduling being looked at;
# ftrace writes into the kernel's buffer and is read after the run. Root
# and tracefs are needed. A benchmark tool, never a test.
#
#   scripts/trace-spawns.sh SBX [N [OUT]]     (N: 1000; OUT: a temporary file)
#   then: scripts/spawn_timeline.py OUT [--cycles FIRST COUNT]
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 SBX [N [OUT]]" >&2; exit 2; }
sbx="$1" n="${2:-1000}" warmup=500
tracing=/sys/kernel/tracing
[ -w "$tracing/trace" ] || { echo "$0: $tracing is not writable (root, tracefs)" >&2; exit 1; }
. scripts/spawn-load.sh
dir=$(mktemp -d)
out="${3:-${TMPDIR:-/tmp}/sbx-spawn-trace.$$}"
# What this changes in tracefs is put back on exit, whatever happens.
old_buffer=$(sed "s/.*expanded: \([0-9]*\).*/\1/" "$tracing/buffer_size_kb")
old_events=$(cat "$tracing/set_event")
stop_tracing() {
    echo 0 >"$tracing/tracing_on"
    echo "$old_events" >"$tracing/set_event"
    echo "$old_buffer" >"$tracing/buffer_size_kb"
}
trap 'stop_tracing; kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT

"$sbx" serve --socket "$dir/s.sock" >"$dir/log" 2>&1 &
echo $! >"$dir/pid"
i=0
while [ ! -S "$dir/s.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$loop" "$dir/s.sock" "$wasm" $warmup # warm workers and a template

echo 0 >"$tracing/tracing_on"
echo >"$tracing/trace"
echo 20000 >"$tracing/buffer_size_kb" # per CPU: ~100 events per spawn
echo 'sched:sched_switch sched:sched_wakeup raw_syscalls:sys_enter raw_syscalls:sys_exit' \
    >"$tracing/set_event"
echo 1 >"$tracing/tracing_on"
"$loop" "$dir/s.sock" "$wasm" "$n"
echo 0 >"$tracing/tracing_on"
cat "$tracing/trace" >"$out" # before stop_tracing: a resize drops the buffer's contents
echo "$out"
