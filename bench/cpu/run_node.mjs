// The node (V8) peer of the CPU benchmarks: instantiates each .wasm (no
// imports), calls its `run` export N times and prints "NAME CHECKSUM
// BEST_SECONDS" like the native and sbx harnesses. Every call must give the
// same checksum.
//
//   node run_node.mjs RUNS FILE.wasm...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [runsArg, ...files] = process.argv.slice(2);
const runs = Math.max(1, Number.parseInt(runsArg ?? '5', 10) || 5);
if (files.length === 0) {
  console.error('usage: node run_node.mjs RUNS FILE.wasm...');
  process.exit(2);
}

for (const file of files) {
  const name = basename(file, '.wasm');
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  const run = instance.exports.run;
  let best = Infinity;
  let first;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const sum = run() >>> 0;
    const t = Number(process.hrtime.bigint() - t0) * 1e-9;
    if (i === 0) {
      first = sum;
    } else if (sum !== first) {
      console.error(`${name}: checksum changed between runs: ${first}, then ${sum}`);
      process.exit(1);
    }
    best = Math.min(best, t);
  }
  console.log(`${name} ${first} ${best.toFixed(6)}`);
}
