#!/bin/sh
# Reference checks of the WASI programs built by scripts/build-wasi-programs.sh:
# runs bzip2.wasm and sqlite3.wasm under a WASI runtime, with a host directory
# preopened as /data, and compares every result with the native builds of
# the same sources (bzip2-native, sqlite3-native).
#
# Usage: scripts/run-wasi-programs-node.sh [OUTDIR]   (default build/wasi-programs)
#
# The runtime is Node.js's node:wasi through scripts/wasi-run-node.mjs unless
# WASI_RUNNER names another command with the same interface:
#
#   $WASI_RUNNER [--dir GUEST=HOST]... [--env NAME=VALUE]... MODULE.wasm ARGS...
#
# (guest stdin/stdout/stderr = the runner's, exit status = the guest's), so
# sbx can be checked the same way, e.g. WASI_RUNNER="path/to/sbx-adapter".
#
# Prints PASS/FAIL per check; exit status 0 all passed, 1 some failed, 77 the
# programs are not built (run scripts/build-wasi-programs.sh OUTDIR first).
set -u
cd "$(dirname "$0")/.." || exit 1
repo="$(pwd)"

out="${1:-build/wasi-programs}"
for f in bzip2.wasm bzip2-native sqlite3.wasm sqlite3-native; do
    if [ ! -s "$out/$f" ]; then
        echo "run-wasi-programs: $out/$f is missing; run scripts/build-wasi-programs.sh $out" >&2
        exit 77
    fi
done
out="$(cd "$out" && pwd)"
runner="${WASI_RUNNER:-node --experimental-wasi-unstable-preview1 --no-warnings $repo/scripts/wasi-run-node.mjs}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wdir="$work/guest"   # preopened as /data
ndir="$work/native"  # the native programs' working directory
mkdir -p "$wdir" "$ndir"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
check_cmp() { # NAME FILE1 FILE2
    if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ ($(cmp "$2" "$3" 2>&1 | head -n1))"; fi
}
now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.2f s", $2 - $1 }'; }

# wrun [--env NAME=VALUE]... MODULE ARGS...: runs a module with /data and HOME=/data.
wrun() {
    $runner --dir /data="$wdir" --env HOME=/data "$@"
}

# --- bzip2 ---------------------------------------------------------------

# Input: ~6 MB of binary and text, deterministic for a given build.
cat "$out/sqlite3.wasm" "$out/bzip2-native" >"$work/input"
if [ -d "$out/src/sqlite3/src" ]; then
    cat "$out/src/sqlite3/src"/*.c >>"$work/input"
else
    cat "$out/sqlite3-native" "$out/sqlite3.wasm" "$out/sqlite3-native" >>"$work/input"
fi
size="$(wc -c <"$work/input")"

cp "$work/input" "$wdir/input"
touch -d '2020-01-02 03:04:05' "$wdir/input"
t0="$(now)"
wrun "$out/bzip2.wasm" -k -9 /data/input
rc=$?
t1="$(now)"
"$out/bzip2-native" -9 -c "$work/input" >"$ndir/input.bz2"
t2="$(now)"
echo "     bzip2 -9 of $size bytes: wasm $(elapsed "$t0" "$t1") (exit $rc), native $(elapsed "$t1" "$t2")"
if [ "$rc" -ne 0 ]; then
    fail "bzip2 -k -9 /data/input" "exit status $rc"
else
    check_cmp "bzip2 -k -9 /data/input: same .bz2 as native bzip2" "$wdir/input.bz2" "$ndir/input.bz2"
    if [ -f "$wdir/input" ]; then pass "bzip2 -k keeps /data/input"; else fail "bzip2 -k keeps /data/input" "input removed"; fi
    if [ "$(stat -c %Y "$wdir/input.bz2")" = "$(stat -c %Y "$wdir/input")" ]; then
        pass "bzip2 copies the input's mtime to the output (utime)"
    else
        fail "bzip2 copies the input's mtime to the output (utime)" "$(stat -c %y "$wdir/input.bz2") vs $(stat -c %y "$wdir/input")"
    fi
fi

cp "$ndir/input.bz2" "$wdir/dec.bz2"
t0="$(now)"
wrun "$out/bzip2.wasm" -d /data/dec.bz2
rc=$?
t1="$(now)"
"$out/bzip2-native" -d -c "$ndir/input.bz2" >/dev/null
t2="$(now)"
echo "     bzip2 -d: wasm $(elapsed "$t0" "$t1") (exit $rc), native $(elapsed "$t1" "$t2")"
if [ "$rc" -ne 0 ]; then
    fail "bzip2 -d /data/dec.bz2" "exit status $rc"
else
    check_cmp "bzip2 -d /data/dec.bz2: the original bytes" "$wdir/dec" "$work/input"
    if [ ! -e "$wdir/dec.bz2" ]; then pass "bzip2 -d removes /data/dec.bz2"; else fail "bzip2 -d removes /data/dec.bz2" "still there"; fi
fi

wrun "$out/bzip2.wasm" -c -1 <"$work/input" >"$work/stdio.bz2"
rc=$?
"$out/bzip2-native" -c -1 <"$work/input" >"$ndir/stdio.bz2"
if [ "$rc" -ne 0 ]; then fail "bzip2 -c -1 <stdin >stdout" "exit status $rc"; else
    check_cmp "bzip2 -c -1 <stdin >stdout: same as native" "$work/stdio.bz2" "$ndir/stdio.bz2"
fi
wrun "$out/bzip2.wasm" -d -c <"$ndir/stdio.bz2" >"$work/stdio.out"
rc=$?
if [ "$rc" -ne 0 ]; then fail "bzip2 -d -c <stdin >stdout" "exit status $rc"; else
    check_cmp "bzip2 -d -c <stdin >stdout: the original bytes" "$work/stdio.out" "$work/input"
fi

wrun "$out/bzip2.wasm" -t /data/input.bz2
rc=$?
if [ "$rc" -eq 0 ]; then pass "bzip2 -t /data/input.bz2"; else fail "bzip2 -t /data/input.bz2" "exit status $rc"; fi
# A corrupted archive: both must report it with exit status 2.
cp "$ndir/input.bz2" "$wdir/bad.bz2"
printf 'XXXXXXXX' | dd of="$wdir/bad.bz2" bs=1 seek=100000 conv=notrunc status=none
wrun "$out/bzip2.wasm" -t /data/bad.bz2 2>"$work/bad.err"
rc=$?
"$out/bzip2-native" -t "$wdir/bad.bz2" 2>/dev/null
nrc=$?
if [ "$rc" -eq "$nrc" ] && [ "$rc" -ne 0 ]; then
    pass "bzip2 -t of a corrupted file: exit status $rc like native"
else
    fail "bzip2 -t of a corrupted file" "exit status $rc, native $nrc: $(head -c 300 "$work/bad.err")"
fi

# --- sqlite3 -------------------------------------------------------------

# srun NAME DB SQL...: runs both shells, wasm on /data/DB and native on
# $ndir/DB, with the same arguments; leaves NAME.{w,n}.{out,err,rc}.
srun() {
    name="$1"
    db="$2"
    shift 2
    # shellcheck disable=SC2086 # senv: zero or more runner options
    wrun $senv "$out/sqlite3.wasm" "/data/$db" "$@" <"${sin:-/dev/null}" >"$work/$name.w.out" 2>"$work/$name.w.err"
    echo $? >"$work/$name.w.rc"
    (cd "$ndir" && HOME="$ndir" SQLITE_TMPDIR="$ndir" "$out/sqlite3-native" "$db" "$@") <"${sin:-/dev/null}" >"$work/$name.n.out" 2>"$work/$name.n.err"
    echo $? >"$work/$name.n.rc"
}
# same NAME DESCRIPTION: the wasm and native runs printed the same and exited alike.
same() {
    if [ "$(cat "$work/$1.w.rc")" != "$(cat "$work/$1.n.rc")" ]; then
        fail "$2" "exit status $(cat "$work/$1.w.rc"), native $(cat "$work/$1.n.rc"); stderr: $(head -c 300 "$work/$1.w.err")"
    elif ! cmp -s "$work/$1.w.out" "$work/$1.n.out"; then
        fail "$2" "stdout differs from native: $(diff "$work/$1.w.out" "$work/$1.n.out" | head -n 5 | tr '\n' ' ')"
    elif ! cmp -s "$work/$1.w.err" "$work/$1.n.err"; then
        fail "$2" "stderr differs from native: $(diff "$work/$1.w.err" "$work/$1.n.err" | head -n 5 | tr '\n' ' ')"
    else
        pass "$2 ($(wc -l <"$work/$1.w.out") lines, exit $(cat "$work/$1.w.rc"))"
    fi
}
senv=""
sin=""

SQL_LOAD="
create table t(a integer primary key, b text not null, c real, d blob);
with recursive r(i) as (select 1 union all select i + 1 from r where i < 100000)
  insert into t(b, c, d) select printf('row%06d', i), i * 0.25, cast(printf('%x', i * 7919) as blob) from r;
create index t_b on t(b);
create table kv(k text primary key, v) without rowid;
begin;
update t set c = c * 2 + 0.125 where a % 3 = 0;
delete from t where a % 7 = 0;
insert into kv select 'k' || (a % 1000), sum(c) from t group by a % 1000;
commit;
select count(*), sum(c), avg(c), min(b), max(b), total(length(d)) from t;
select b, c, hex(d) from t where b between 'row099990' and 'row099999' order by b desc;
select a % 10 as m, count(*), printf('%.3f', sum(c)) from t group by m order by m;
select b, rank() over (order by c desc) from t where a < 30 order by a;
select json_object('n', count(*), 'max', max(v)), json_array(1, 2.5, 'x', null) from kv;
select date('2024-02-29', '+1 year'), strftime('%Y-%m-%d %H:%M', '2024-01-01 12:34:56', '+90 minutes'), julianday('2000-01-01');
select 1e300 * 10, -0.0, 1.0 / 3, 12345678901234567890, cast('0x1F' as integer), round(2.5), upper('straße');
"
t0="$(now)"
srun load t.db "$SQL_LOAD"
t1="$(now)"
echo "     sqlite3 load (100k rows, index, update/delete, queries): wasm+native $(elapsed "$t0" "$t1")"
same load "sqlite3 /data/t.db '<create, insert 100k rows, index, transaction, queries>'"
check_cmp "sqlite3: the database file is byte-identical to native's" "$wdir/t.db" "$ndir/t.db"
for j in "$wdir"/t.db-*; do
    [ -e "$j" ] && fail "sqlite3: no journal left behind" "$j"
done

srun reopen t.db "pragma integrity_check; select count(*), sum(c) from t; select * from kv order by k limit 5;"
same reopen "sqlite3 reopens /data/t.db: integrity_check, queries"

"$out/sqlite3-native" "$wdir/t.db" .dump >"$work/dump.native-of-wasm" 2>&1
srun dump t.db .dump
same dump "sqlite3 /data/t.db .dump"
check_cmp "sqlite3: native .dump of the wasm-written database = wasm .dump" "$work/dump.native-of-wasm" "$work/dump.w.out"

cat >"$work/script.sql" <<'EOF'
.headers on
.mode csv
select a, b, c from t where a in (1, 2, 3, 99999);
.mode list
.tables
.schema kv
.mode box
select k, printf('%.2f', v) as v from kv order by k limit 3;
.mode json
select a, b from t limit 2;
.headers off
.mode line
select count(*) as n from kv;
.print done
EOF
sin="$work/script.sql" srun script t.db
same script "sqlite3 /data/t.db <script.sql (dot-commands: csv, box, json, .tables, .schema)"

senv="--env SQLITE_TMPDIR=/data"
srun tempfile t.db "pragma temp_store = file; create index t_c on t(c, b); vacuum; pragma integrity_check; select count(*) from t indexed by t_c where c > 1000;"
senv=""
same tempfile "sqlite3: temp files in \$SQLITE_TMPDIR=/data (temp_store=file, create index, vacuum)"
check_cmp "sqlite3: database byte-identical to native's after vacuum" "$wdir/t.db" "$ndir/t.db"
find "$wdir" -mindepth 1 ! -name t.db ! -name 'input*' ! -name dec ! -name bad.bz2 >"$work/leftover"
if [ -s "$work/leftover" ]; then fail "sqlite3: temp files removed" "$(tr '\n' ' ' <"$work/leftover")"; else pass "sqlite3: temp files removed"; fi

srun error t.db "select * from nope;"
same error "sqlite3: an SQL error (message, exit status 1)"

wrun "$out/sqlite3.wasm" :memory: "select sqlite_version(); select count(*) from pragma_compile_options;" >"$work/mem.w.out" 2>&1
"$out/sqlite3-native" :memory: "select sqlite_version(); select count(*) from pragma_compile_options;" >"$work/mem.n.out" 2>&1
check_cmp "sqlite3 :memory: (version, compile options)" "$work/mem.w.out" "$work/mem.n.out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
