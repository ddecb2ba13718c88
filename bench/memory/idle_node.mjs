// The node peer of the idle-worker memory benchmark: instantiates the same
// module, calls its "touch" export (every function once, every data page
// read), says it is ready (one byte on stdout) and stays idle.
//   node idle_node.mjs MODULE.wasm
import { readFileSync, writeSync } from 'node:fs';

const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]));
instance.exports.touch();
writeSync(1, 'r');
setInterval(() => {}, 1 << 30);
