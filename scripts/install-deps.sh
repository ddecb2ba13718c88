#!/bin/sh
# Installs the Debian 12 packages sbx needs to build and test, skipping any
# already present. Safe to run repeatedly; needs root (or sudo) only when
# something is missing.
set -eu

PACKAGES="
build-essential cmake pkg-config
clang lld libclang-rt-14-dev libclang-rt-14-dev-wasm32 wasi-libc
libcap-dev libseccomp-dev libprotobuf-c-dev protobuf-c-compiler
libjson-c-dev libcriterion-dev nettle-dev
wabt binaryen
tcl dpkg-dev
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# node runs the differential tests (tests/diff) and the benchmarks' peer;
# machines that already have one (Node.js 20 here) keep it.
if ! command -v node >/dev/null 2>&1; then
    missing="$missing nodejs"
fi

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
