#!/bin/sh
# Real programs, unmodified, under `sbx run`: bzip2 and the sqlite3 shell
# built from Debian 12's source packages for wasm32-wasi
# (scripts/build-wasi-programs.sh, cached in OUTDIR), each run through the
# zygote and a confined worker with a preopened directory, and compared
# byte for byte with the native build of the same sources.
# Usage: real_programs.sh SBX SOURCE_DIR OUTDIR
# Exit 77 (ctest: skipped) with the reason when the sources cannot be fetched.
set -u
sbx=$1 src=$2 out=$3
"$src/scripts/build-wasi-programs.sh" "$out" >"$out.log" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIPPED: the Debian source packages cannot be fetched here:"
    tail -3 "$out.log"
    exit 77
fi
if [ $rc -ne 0 ]; then
    echo "building the programs failed (status $rc):"
    tail -20 "$out.log"
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}
run() { # run DIR MODULE ARGS...: the module with DIR preopened as /data
    dir=$1 mod=$2
    shift 2
    "$sbx" run --timeout 120000 --env HOME=/data --dir "$dir::/data" "$out/$mod" "$@"
}

# bzip2: compress a file in the preopened directory, as the native tool does.
mkdir "$work/w" "$work/n"
head -c 3000000 "$sbx" >"$work/w/input"
cp "$work/w/input" "$work/n/input"
run "$work/w" bzip2.wasm -k -9 /data/input || fail "bzip2 -k -9 exited $?"
"$out/bzip2-native" -k -9 "$work/n/input"
cmp -s "$work/w/input.bz2" "$work/n/input.bz2" || fail "bzip2: the .bz2 differs from native bzip2's"
# ... and back, replacing the .bz2 as bzip2 -d does.
mv "$work/w/input" "$work/w/original"
run "$work/w" bzip2.wasm -d /data/input.bz2 || fail "bzip2 -d exited $?"
cmp -s "$work/w/input" "$work/w/original" || fail "bzip2 -d did not restore the input"
[ ! -e "$work/w/input.bz2" ] || fail "bzip2 -d left the .bz2 behind"
# A corrupt archive: the same verdict and status as native.
printf 'BZh9garbage' >"$work/w/bad.bz2"
cp "$work/w/bad.bz2" "$work/n/bad.bz2"
run "$work/w" bzip2.wasm -t /data/bad.bz2 2>/dev/null
wrc=$?
"$out/bzip2-native" -t "$work/n/bad.bz2" 2>/dev/null
nrc=$?
[ $wrc -eq $nrc ] && [ $wrc -ne 0 ] || fail "bzip2 -t on a corrupt file: $wrc, native $nrc"

# sqlite3: SQL against a database file in the preopened directory.
sql="create table t(id integer primary key, name text, score real);
insert into t(name, score) values ('ada', 12.125), ('bob', 7.5), ('cy', 3.25);
create index t_score on t(score);
update t set score = score * 2 where name = 'bob';
select id, name, score, sum(score) over (order by id) from t order by score desc;
select json_object('n', count(*), 'avg', avg(score)) from t;
pragma integrity_check;"
run "$work/w" sqlite3.wasm /data/t.db "$sql" >"$work/w.out" 2>"$work/w.err" || fail "sqlite3 exited $?"
(cd "$work/n" && HOME="$work/n" "$out/sqlite3-native" t.db "$sql") >"$work/n.out" 2>"$work/n.err"
cmp -s "$work/w.out" "$work/n.out" || fail "sqlite3: output differs from native: $(diff "$work/w.out" "$work/n.out" | head -5)"
cmp -s "$work/w/t.db" "$work/n/t.db" || fail "sqlite3: the database file differs from native's"
# The file it wrote reads back, in the guest and natively.
run "$work/w" sqlite3.wasm /data/t.db "select count(*), max(score) from t;" >"$work/w2.out" 2>/dev/null
"$out/sqlite3-native" "$work/w/t.db" "select count(*), max(score) from t;" >"$work/n2.out"
cmp -s "$work/w2.out" "$work/n2.out" || fail "sqlite3: reopening the database differs from native"
# An SQL error: the same message and status as native.
run "$work/w" sqlite3.wasm /data/t.db "select nope from t;" >/dev/null 2>"$work/w3.err"
wrc=$?
(cd "$work/n" && "$out/sqlite3-native" t.db "select nope from t;") >/dev/null 2>"$work/n3.err"
nrc=$?
[ $wrc -eq $nrc ] && cmp -s "$work/w3.err" "$work/n3.err" ||
    fail "sqlite3: an SQL error gives $wrc '$(cat "$work/w3.err")', native $nrc '$(cat "$work/n3.err")'"

[ $failed -eq 0 ] && echo "bzip2 and sqlite3 under sbx run match their native builds"
exit $failed
