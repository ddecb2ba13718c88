// Runs a WASI preview1 command module under Node.js's node:wasi, the
// reference runtime of scripts/run-wasi-programs-node.sh.
//
//   node --experimental-wasi-unstable-preview1 scripts/wasi-run-node.mjs \
//        [--dir GUEST=HOST]... [--env NAME=VALUE]... [--argv0 NAME] \
//        MODULE.wasm [ARGS...]
//
// --dir preopens host directory HOST as GUEST, --env sets one guest
// environment variable (the guest gets no other), --argv0 the guest's
// argv[0] (default: the module's file name without .wasm). The guest's
// stdin, stdout and stderr are this process's. Exits with the guest's exit
// status; 125 if the module cannot be compiled or instantiated (for example
// an import node:wasi does not provide), 134 if it traps.
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

function usage(msg) {
    process.stderr.write(`wasi-run-node: ${msg}\n` +
        'usage: wasi-run-node.mjs [--dir GUEST=HOST]... [--env NAME=VALUE]... [--argv0 NAME] MODULE.wasm [ARGS...]\n');
    process.exit(2);
}

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let argv0 = null;
let i = 0;
for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('--')) break;
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    if (a === '--dir' || a === '--env') {
        const eq = v.indexOf('=');
        if (eq <= 0) usage(`${a} ${v}: expected NAME=VALUE`);
        (a === '--dir' ? preopens : env)[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (a === '--argv0') {
        argv0 = v;
    } else {
        usage(`unknown option ${a}`);
    }
}
const file = argv[i];
if (file === undefined) usage('no module');
const args = [argv0 ?? basename(file).replace(/\.wasm$/, ''), ...argv.slice(i + 1)];

const wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
let instance;
try {
    const module = await WebAssembly.compile(readFileSync(file));
    instance = await WebAssembly.instantiate(module, wasi.getImportObject());
} catch (e) {
    process.stderr.write(`wasi-run-node: ${file}: ${e.message}\n`);
    process.exit(125);
}
try {
    process.exitCode = wasi.start(instance);
} catch (e) {
    process.stderr.write(`wasi-run-node: ${file}: trap: ${e.message}\n`);
    process.exitCode = 134;
}
