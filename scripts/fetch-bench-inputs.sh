#!/bin/sh
# Fetches the real-world module of the front-end benchmark: ruby.wasm from
# the npm package @ruby/3.3-wasm-wasi (pinned version), into DIR (default
# build/bench-inputs) as ruby.wasm (the interpreter, 16 MB) and
# ruby+stdlib.wasm (with the standard library as data, 36 MB). Needs npm and
# network access; does nothing if the files are already there.
set -eu
cd "$(dirname "$0")/.."

version=2.10.1
dest="${1:-build/bench-inputs}"
mkdir -p "$dest"
if [ -s "$dest/ruby.wasm" ] && [ -s "$dest/ruby+stdlib.wasm" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-bench-inputs: npm not found; install it (apt-get install npm) to fetch ruby.wasm" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-bench-inputs: npm pack @ruby/3.3-wasm-wasi@$version" >&2
tgz="$(cd "$tmp" && npm pack --silent "@ruby/3.3-wasm-wasi@$version")"
tar -xzf "$tmp/$tgz" -C "$tmp"
for f in ruby.wasm ruby+stdlib.wasm; do
    if [ -f "$tmp/package/dist/$f" ]; then
        cp "$tmp/package/dist/$f" "$dest/$f"
    fi
done
if [ ! -s "$dest/ruby.wasm" ]; then
    echo "fetch-bench-inputs: no dist/ruby.wasm in the package; its .wasm files:" >&2
    find "$tmp/package" -name '*.wasm' >&2
    exit 1
fi
ls -l "$dest"/ruby*.wasm >&2
