#!/usr/bin/env python3
"""Two sbx binaries against each other, for a change's effect on a cold
`sbx run` (a new supervisor and zygote per run): PAIRS pairs of runs of
WASM, A and B alternating (and which goes first alternating too, since this
kind of machine drifts by tens of percent within minutes). Each run is
timed from the spawn of the process to its exit, must exit 0, and its
output is discarded. Prints each binary's p50 and p90 and the B/A ratio of
the p50s. A benchmark, never a test.

  scripts/bench-ab-cold.py SBX_A SBX_B [PAIRS [WASM]]
    defaults: 1000 pairs, build-bench/examples/hello.wasm (built by
    scripts/bench-wasi.sh, or `cmake --build build-bench --target examples`)
"""
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SBX_A SBX_B [PAIRS [WASM]]")
    a, b = sys.argv[1], sys.argv[2]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    wasm = sys.argv[4] if len(sys.argv) > 4 else "build-bench/examples/hello.wasm"
    times = {a: [], b: []}
    for i in range(pairs):
        for sbx in (a, b) if i % 2 == 0 else (b, a):
            start = time.perf_counter()
            rc = subprocess.run([sbx, "run", wasm], stdout=subprocess.DEVNULL).returncode
            times[sbx].append((time.perf_counter() - start) * 1000)
            if rc != 0:
                sys.exit(f"{sbx} run {wasm}: exit status {rc}")
    for tag, sbx in (("A", a), ("B", b)):
        v = sorted(times[sbx])
        print(f"{tag}: p50 {statistics.median(v):.2f} ms, p90 {v[int(len(v) * 0.9)]:.2f} ms ({sbx})")
    ratio = statistics.median(times[b]) / statistics.median(times[a])
    print(f"B/A p50, {pairs} alternating pairs: {ratio:.3f}x")


if __name__ == "__main__":
    main()
