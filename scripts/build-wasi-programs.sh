#!/bin/sh
# Builds real command-line programs from Debian 12 source packages as
# wasm32-wasi (preview1) modules, for sbx's WASI tests and benchmarks, plus
# native (gcc) builds of the same sources for comparison:
#
#   OUTDIR/bzip2.wasm    OUTDIR/bzip2-native     (source package bzip2)
#   OUTDIR/sqlite3.wasm  OUTDIR/sqlite3-native   (source package sqlite3: the
#                                                 shell, shell.c + sqlite3.c)
#   OUTDIR/*.imports     the WASI functions each module imports
#   OUTDIR/BUILD-INFO    versions, exact commands and flags
#   OUTDIR/src/          the unpacked source packages
#
# Usage: scripts/build-wasi-programs.sh [OUTDIR]   (default build/wasi-programs)
#
# The program sources stay unmodified (Debian's patches applied, as
# `apt-get source` unpacks them). What WASI lacks is handled with compile-time
# defines and wasi-libc's emulation libraries, plus one documented shim,
# scripts/wasi-shim/ (no-op chmod/fchmod/fchown, getuid/geteuid returning 0,
# a failing getpwuid and a <pwd.h> for it, system() without a shell).
#
# sqlite: WASI preview1 has no file locking, so the build makes the unix
# VFS's "unix-none" variant (no locks) the default
# (-DSQLITE_DEFAULT_UNIX_VFS="unix-none"); the default "unix" VFS fails with
# "disk I/O error" on the first lock (fcntl F_SETLK). No threads
# (SQLITE_THREADSAFE=0), no dlopen (SQLITE_OMIT_LOAD_EXTENSION), no shared
# memory (SQLITE_OMIT_WAL, SQLITE_MAX_MMAP_SIZE=0), no popen
# (SQLITE_OMIT_POPEN). Temporary files default to memory (SQLITE_TEMP_STORE=2):
# sqlite looks for them in /var/tmp, /usr/tmp, /tmp, which a guest normally
# cannot reach; with PRAGMA temp_store=FILE set SQLITE_TMPDIR to a preopened
# directory. sqlite's long double arithmetic is plain double
# (-DLONGDOUBLE_TYPE=double), in both builds, so that wasm and native print
# the same digits. The native build uses the same SQLITE_* options.
#
# Needs: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32 (scripts/install-deps.sh),
# gcc, make, tclsh (sqlite generates its amalgamation with tcl), dpkg-dev
# (dpkg-source), and deb-src entries for Debian 12 (added if missing, as root
# or with sudo). Caches: does nothing when OUTDIR already holds outputs built
# from the same source package versions, compiler and build script.
#
# Exit status: 0 built or up to date; 77 the sources cannot be fetched (no
# deb-src access, no network, no tclsh) — a reason is printed; 1 build failed.
# Flag variables are word-split on purpose; SQLITE_DEFAULT_UNIX_VFS keeps its
# literal quotes (the macro is the C string "unix-none").
# shellcheck disable=SC2086,SC2089,SC2090
set -eu
cd "$(dirname "$0")/.."
repo="$(pwd)"

out="${1:-build/wasi-programs}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
shim="$repo/scripts/wasi-shim"
PKGS="bzip2 sqlite3"

say() { echo "build-wasi-programs: $*" >&2; }
skip() { say "cannot fetch the sources: $*"; exit 77; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
fi

# --- deb-src -------------------------------------------------------------

# Prints the source package versions apt would fetch (one "name version"
# line each); fails if apt knows no source for one of them.
source_versions() {
    tmpq="$(mktemp -d)"
    if ! (cd "$tmpq" && apt-get -qq source --print-uris $PKGS) >"$tmpq/uris" 2>/dev/null; then
        rm -rf "$tmpq"
        return 1
    fi
    for p in $PKGS; do
        v="$(awk -v p="$p" '$2 ~ ("^" p "_.*\\.dsc$") { sub("^" p "_", "", $2); sub("\\.dsc$", "", $2); print $2; exit }' "$tmpq/uris")"
        if [ -z "$v" ]; then
            rm -rf "$tmpq"
            return 1
        fi
        echo "$p $v"
    done
    rm -rf "$tmpq"
}

add_deb_src() {
    deb822=/etc/apt/sources.list.d/debian.sources
    if grep -qs -e '^Types:.*deb-src' -e '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
        say "deb-src entries present, but apt has no source index yet"
    elif [ -f "$deb822" ] && grep -q '^Types: deb$' "$deb822"; then
        say "adding deb-src to $deb822 (Types: deb deb-src)"
        $SUDO sed -i 's/^Types: deb$/Types: deb deb-src/' "$deb822" || return 1
    elif [ -f /etc/apt/sources.list ] && grep -q '^deb .*debian' /etc/apt/sources.list; then
        say "adding deb-src lines for /etc/apt/sources.list to /etc/apt/sources.list.d/sbx-deb-src.list"
        grep '^deb .*debian' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
            $SUDO tee /etc/apt/sources.list.d/sbx-deb-src.list >/dev/null || return 1
    else
        say "adding /etc/apt/sources.list.d/sbx-deb-src.sources (bookworm)"
        printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
            'Suites: bookworm bookworm-updates' 'Components: main' \
            'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
            $SUDO tee /etc/apt/sources.list.d/sbx-deb-src.sources >/dev/null || return 1
    fi
    say "apt-get update"
    $SUDO apt-get update -qq >&2 || return 1
}

have_outputs() {
    for f in $outputs; do
        [ -s "$out/$f" ] || return 1
    done
    [ -f "$out/.stamp" ]
}

outputs="bzip2.wasm bzip2-native sqlite3.wasm sqlite3-native"
if ! versions="$(source_versions)"; then
    if have_outputs; then
        say "apt cannot tell the source package versions (no deb-src index); keeping the existing build in $out ($(cat "$out/.stamp"))"
        exit 0
    fi
    add_deb_src || skip "no deb-src entry for Debian 12 and adding one failed (needs root or passwordless sudo, and network access to deb.debian.org)"
    versions="$(source_versions)" || skip "apt knows no source package for: $PKGS (apt-get source --print-uris failed after adding deb-src)"
fi
bzip2_version="$(echo "$versions" | awk '$1 == "bzip2" { print $2 }')"
sqlite3_version="$(echo "$versions" | awk '$1 == "sqlite3" { print $2 }')"

# --- cache ---------------------------------------------------------------

script_sum="$(cat "$0" "$shim/wasi-shim.h" "$shim/wasi-shim.c" "$shim/include/pwd.h" | sha256sum | cut -c1-16)"
key="bzip2=$bzip2_version sqlite3=$sqlite3_version script=$script_sum clang=$(clang --version | head -n1) gcc=$(gcc -dumpfullversion)"
if have_outputs && [ "$(cat "$out/.stamp")" = "$key" ]; then
    say "up to date in $out ($key)"
    exit 0
fi

# --- fetch ---------------------------------------------------------------

if ! command -v tclsh >/dev/null 2>&1; then
    say "tclsh not found (sqlite generates its amalgamation with tcl); installing tcl"
    $SUDO apt-get install -y -qq --no-install-recommends tcl >&2 ||
        skip "tclsh is missing and installing the tcl package failed"
fi
command -v dpkg-source >/dev/null 2>&1 || skip "dpkg-source is missing (apt-get install dpkg-dev)"

start="$(date +%s)"
rm -rf "$out/src" "$out/work" "$out/.stamp"
mkdir -p "$out/src" "$out/work"
say "apt-get source $PKGS ($bzip2_version, $sqlite3_version)"
if ! (cd "$out/src" && apt-get -q -o APT::Sandbox::User="$(id -un)" source --download-only $PKGS) >"$out/work/fetch.log" 2>&1; then
    tail -n 5 "$out/work/fetch.log" >&2
    skip "apt-get source --download-only $PKGS failed"
fi
for p in $PKGS; do
    dsc="$(find "$out/src" -maxdepth 1 -name "${p}_*.dsc" | head -n1)"
    (cd "$out/src" && dpkg-source -x "$(basename "$dsc")" "$p") >>"$out/work/fetch.log" 2>&1 ||
        { cat "$out/work/fetch.log" >&2; say "dpkg-source -x $dsc failed"; exit 1; }
done
rm -f "$out/src"/*.tar.* "$out/src"/*.dsc

# --- flags ---------------------------------------------------------------

# -nostdlibinc: Debian's clang with --sysroot=/usr would otherwise fall back
# to the host's glibc headers in /usr/include for anything wasi-libc lacks.
WASI_CC="clang --target=wasm32-wasi --sysroot=/usr"
WASI_CFLAGS="-O2 -nostdlibinc -isystem $shim/include -isystem /usr/include/wasm32-wasi -include $shim/wasi-shim.h"
WASI_LDFLAGS="-Wl,--strip-debug"
NATIVE_CC="gcc"
NATIVE_CFLAGS="-O2"

BZIP2_SRCS="blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c"
BZIP2_CFLAGS="-D_FILE_OFFSET_BITS=64 -Wall -Winline"
BZIP2_WASI_CFLAGS="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS"
BZIP2_WASI_LIBS="-lwasi-emulated-signal -lwasi-emulated-process-clocks"

# LONGDOUBLE_TYPE=double: sqlite's float<->text conversions use long double,
# 80-bit x87 natively but 128-bit IEEE quad (soft-float calls into
# compiler-rt) on wasm32, so the two printed some REALs differently (.dump:
# 12.124999999999999999 vs 12.125). Plain double in both builds makes them
# agree bit for bit and keeps soft-float out of the wasm.
SQLITE_CFLAGS="-DLONGDOUBLE_TYPE=double -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_OMIT_POPEN -DSQLITE_TEMP_STORE=2 -DSQLITE_DEFAULT_UNIX_VFS=\"unix-none\""
# F_*: the lock constants of os_unix.c's (unused with unix-none) fcntl locking,
# which wasi-libc's <fcntl.h> leaves out; Linux's values.
SQLITE_WASI_CFLAGS="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_MMAN -DF_RDLCK=0 -DF_WRLCK=1 -DF_UNLCK=2 -DF_GETLK=5 -DF_SETLK=6 -DF_SETLKW=7"
SQLITE_WASI_LIBS="-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid -lwasi-emulated-mman -lm"
SQLITE_NATIVE_LIBS="-lm"

log="$out/work/build.log"
: >"$log"
run() {
    echo "+ (cd $(pwd) && $*)" >>"$log"
    "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; say "failed: $*"; exit 1; }
}

# --- sqlite amalgamation (sqlite3.c, shell.c) -----------------------------

say "generating the sqlite amalgamation (configure, make sqlite3.c shell.c)"
mkdir -p "$out/work/sqlite"
(cd "$out/work/sqlite" && run ../../src/sqlite3/configure --disable-tcl && run make -j"$(nproc)" sqlite3.c shell.c)
sq="$out/work/sqlite"

# --- compile (in parallel) ------------------------------------------------

say "compiling bzip2 and sqlite3 (wasm32-wasi and native)"
bz="$out/src/bzip2"
pids=""
(cd "$bz" && run $WASI_CC $WASI_CFLAGS $BZIP2_CFLAGS $BZIP2_WASI_CFLAGS -o "$out/work/bzip2.wasm" $BZIP2_SRCS "$shim/wasi-shim.c" $WASI_LDFLAGS $BZIP2_WASI_LIBS) &
pids="$pids $!"
(cd "$bz" && run $NATIVE_CC $NATIVE_CFLAGS $BZIP2_CFLAGS -o "$out/work/bzip2-native" $BZIP2_SRCS) &
pids="$pids $!"
(cd "$sq" && run $WASI_CC $WASI_CFLAGS $SQLITE_CFLAGS $SQLITE_WASI_CFLAGS -c sqlite3.c -o sqlite3.wasm.o) &
pids="$pids $!"
(cd "$sq" && run $WASI_CC $WASI_CFLAGS $SQLITE_CFLAGS $SQLITE_WASI_CFLAGS -c shell.c -o shell.wasm.o &&
    run $WASI_CC $WASI_CFLAGS -c "$shim/wasi-shim.c" -o wasi-shim.wasm.o) &
pids="$pids $!"
(cd "$sq" && run $NATIVE_CC $NATIVE_CFLAGS $SQLITE_CFLAGS -c sqlite3.c -o sqlite3.native.o) &
pids="$pids $!"
(cd "$sq" && run $NATIVE_CC $NATIVE_CFLAGS $SQLITE_CFLAGS -c shell.c -o shell.native.o) &
pids="$pids $!"
failed=0
for pid in $pids; do
    wait "$pid" || failed=1
done
[ "$failed" = 0 ] || { say "compilation failed; see $log"; exit 1; }
(cd "$sq" && run $WASI_CC -o "$out/work/sqlite3.wasm" shell.wasm.o sqlite3.wasm.o wasi-shim.wasm.o $WASI_LDFLAGS $SQLITE_WASI_LIBS)
(cd "$sq" && run $NATIVE_CC -o "$out/work/sqlite3-native" shell.native.o sqlite3.native.o $SQLITE_NATIVE_LIBS)

for f in $outputs; do
    mv -f "$out/work/$f" "$out/$f"
done
for m in bzip2 sqlite3; do
    if command -v wasm-objdump >/dev/null 2>&1; then
        wasm-objdump -x -j Import "$out/$m.wasm" | sed -n 's/.* <- \(.*\)$/\1/p' >"$out/$m.imports"
    fi
done

end="$(date +%s)"
{
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((end - start)) s"
    echo "$key"
    echo
    echo "bzip2 (src/bzip2):"
    echo "  wasm:   $WASI_CC $WASI_CFLAGS $BZIP2_CFLAGS $BZIP2_WASI_CFLAGS -o bzip2.wasm $BZIP2_SRCS scripts/wasi-shim/wasi-shim.c $WASI_LDFLAGS $BZIP2_WASI_LIBS"
    echo "  native: $NATIVE_CC $NATIVE_CFLAGS $BZIP2_CFLAGS -o bzip2-native $BZIP2_SRCS"
    echo
    echo "sqlite3 (amalgamation from src/sqlite3: configure --disable-tcl; make sqlite3.c shell.c):"
    echo "  wasm:   $WASI_CC $WASI_CFLAGS $SQLITE_CFLAGS $SQLITE_WASI_CFLAGS -c {shell,sqlite3}.c; -c scripts/wasi-shim/wasi-shim.c"
    echo "          $WASI_CC -o sqlite3.wasm shell.o sqlite3.o wasi-shim.o $WASI_LDFLAGS $SQLITE_WASI_LIBS"
    echo "  native: $NATIVE_CC $NATIVE_CFLAGS $SQLITE_CFLAGS -o sqlite3-native shell.c sqlite3.c $SQLITE_NATIVE_LIBS"
} >"$out/BUILD-INFO"
echo "$key" >"$out/.stamp"
rm -rf "$out/work"
say "built in $((end - start)) s:"
(cd "$out" && ls -l $outputs) >&2
