// Differential-testing oracle (issue 4): runs a module in node's V8 the way
// diff_sbx.c runs it in sbx and prints the same transcript (see the comment
// at the top of diff_sbx.c for the format). Needs
// --experimental-wasm-type-reflection for the export signatures.
//
// Output is written line by line with writeSync, so a run killed by a
// timeout still leaves the calls it completed.
import fs from 'node:fs';

const out = (line) => fs.writeSync(1, line + '\n');

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

function fmt(type, v) {
  switch (type) {
    case 'i32':
      return 'i32:0x' + (v >>> 0).toString(16).padStart(8, '0');
    case 'i64':
      return 'i64:0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');
    case 'f32':
      if (Number.isNaN(v)) return 'f32:nan';
      f32[0] = v;
      return 'f32:0x' + u32[0].toString(16).padStart(8, '0');
    case 'f64':
      if (Number.isNaN(v)) return 'f64:nan';
      f64[0] = v;
      return 'f64:0x' + u64[0].toString(16).padStart(16, '0');
    case 'funcref':
    case 'externref':
    case 'anyfunc':
      return 'ref:' + (v === null ? 'null' : 'nonnull');
    default:
      return type + ':?';
  }
}

function zero(type) {
  switch (type) {
    case 'i64': return 0n;
    case 'i32': case 'f32': case 'f64': return 0;
    default: return null;
  }
}

function errorText(e) {
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) return 'trap ' + e.message;
  return 'trap host-error ' + (e && e.constructor ? e.constructor.name : '') + ': ' +
      (e && e.message);
}

const bytes = fs.readFileSync(process.argv[2]);
let mod;
try {
  mod = new WebAssembly.Module(bytes);
} catch (e) {
  out('compile error ' + e.message);
  out('end');
  process.exit(0);
}

const imports = {};
for (const im of WebAssembly.Module.imports(mod)) {
  if (im.kind !== 'function' || im.module !== 'fuzzing-support') continue;
  const params = im.type.parameters;
  (imports[im.module] ??= {})[im.name] = (...args) => {
    out('log ' + im.name + params.map((t, i) => ' ' + fmt(t, args[i])).join(''));
    // Results (none for binaryen's loggers) are zero.
    const r = im.type.results;
    if (r.length === 1) return zero(r[0]);
    if (r.length > 1) return r.map(zero);
    return undefined;
  };
}

let inst;
try {
  inst = new WebAssembly.Instance(mod, imports);
} catch (e) {
  if (e instanceof WebAssembly.RuntimeError) out('instantiate trap ' + e.message);
  else out('instantiate error ' + e.message);
  out('end');
  process.exit(0);
}

const exps = WebAssembly.Module.exports(mod);
const hang = exps.find((e) => e.kind === 'function' && e.name === 'hangLimitInitializer');
let memory = null;
for (const e of exps) {
  if (e.kind === 'memory') memory = inst.exports[e.name];
}
for (const e of exps) {
  if (e.kind !== 'function' || e === hang) continue;
  out('call ' + e.name);
  if (hang) {
    try {
      inst.exports[hang.name]();
    } catch (err) {
      out('trap hangLimitInitializer: ' + err.message);
      continue;
    }
  }
  const fn = inst.exports[e.name];
  let r;
  try {
    r = fn(...e.type.parameters.map(zero));
  } catch (err) {
    out(errorText(err));
    continue;
  }
  const rt = e.type.results;
  const vals = rt.length === 1 ? [r] : rt.length ? r : [];
  out('result' + rt.map((t, i) => ' ' + fmt(t, vals[i])).join(''));
}
if (memory) {
  const b = new Uint8Array(memory.buffer);
  // FNV-1a 64 in two 32-bit halves: prime = 2^40 + 0x1b3.
  let hi = 0xcbf29ce4, lo = 0x84222325;
  for (let i = 0; i < b.length; i++) {
    lo = (lo ^ b[i]) >>> 0;
    const p = lo * 0x1b3;
    const carry = Math.floor(p / 4294967296);
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = p >>> 0;
  }
  const h = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  out('memory ' + b.length / 65536 + ' ' + h);
}
out('end');
