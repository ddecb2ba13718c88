// Compares an sbx transcript (diff_sbx) with a node transcript
// (diff_node.mjs). Usage: node compare.mjs SBX.txt NODE.txt
//
// Prints one line, "VERDICT CALLS DETAIL", and exits with
//   0  agree (CALLS calls compared; DETAIL says why comparing stopped early)
//   1  mismatch (DETAIL: the first difference)
//   3  both engines rejected the module (nothing to compare)
//
// Rules (false positives these avoid, see tests/diff/README.md):
//  - traps are compared by category, not text (V8 and sbx word them
//    differently and merge some cases differently);
//  - NaNs are printed as "nan" by both runners (payload and sign bits of a
//    NaN result are nondeterministic in the spec);
//  - "all fuel consumed" in sbx stops the comparison at that call (node has
//    no fuel; its run of that call may hang and be cut by the timeout);
//  - stack exhaustion depends on frame sizes: when either side exhausts the
//    stack the comparison stops (counted as compared only if both did);
//  - a node transcript cut short by the timeout is compared up to the call
//    it was killed in.
import fs from 'node:fs';
import {pathToFileURL} from 'node:url';

export function category(msg) {
  const m = msg.trim();
  const table = [
    [/^unreachable/, 'unreachable'],
    [/^integer divide by zero$|^divide by zero$|^remainder by zero$/, 'div-zero'],
    // V8 reports both trapping conversions (out of range and NaN) as
    // "float unrepresentable"; sbx follows the spec ("integer overflow" for
    // out-of-range, "invalid conversion" for NaN) and also uses "integer
    // overflow" for INT_MIN / -1, which V8 calls "divide result
    // unrepresentable". One category for all four.
    [/^integer overflow$|^invalid conversion to integer$|^divide result unrepresentable$|^float unrepresentable in integer range$/,
      'overflow'],
    [/^out of bounds memory access$|^memory access out of bounds$|^data segment .*out of bounds/, 'memory-oob'],
    [/^out of bounds table access$|^undefined element|^table index is out of bounds$|^table access out of bounds$|^element segment .*out of bounds|^table .*out of bounds/,
      'table-oob'],
    [/^indirect call type mismatch$|^uninitialized element|^null function or function signature mismatch$/,
      'indirect'],
    [/^call stack exhausted$|^Maximum call stack size exceeded$/, 'stack'],
    [/^all fuel consumed$/, 'fuel'],
  ];
  for (const [re, cat] of table)
    if (re.test(m)) return cat;
  return 'other(' + m + ')';
}

export function parse(text) {
  const t = {head: [], calls: [], tail: [], ended: false};
  let cur = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line === 'end') {
      t.ended = true;
      break;
    }
    if (line.startsWith('call ')) {
      cur = {name: line.slice(5), logs: [], outcome: null};
      t.calls.push(cur);
    } else if (line.startsWith('memory ')) {
      t.tail.push(line);
      cur = null;
    } else if (cur && (line.startsWith('result') || line.startsWith('trap '))) {
      cur.outcome = line;
    } else if (cur) {
      cur.logs.push(line);
    } else {
      t.head.push(line);
    }
  }
  return t;
}

function outcomeKey(o) {
  if (o === null) return null;
  if (o.startsWith('trap ')) return 'trap ' + category(o.slice(5));
  return o;
}

// Returns {verdict: 'agree'|'mismatch'|'invalid', calls, detail}.
export function compare(sbxText, nodeText) {
  const s = parse(sbxText), n = parse(nodeText);
  const sInvalid = s.head.some((l) => l.startsWith('compile error'));
  const nInvalid = n.head.some((l) => l.startsWith('compile error'));
  if (sInvalid || nInvalid) {
    if (sInvalid && nInvalid) return {verdict: 'invalid', calls: 0, detail: 'both rejected'};
    return {
      verdict: 'mismatch', calls: 0, kind: 'validation',
      detail: 'validation: sbx: ' + (s.head[0] ?? '(valid)') + ' | node: ' + (n.head[0] ?? '(valid)'),
    };
  }
  const instKey = (t) => {
    const l = t.head.find((x) => x.startsWith('instantiate '));
    if (!l) return 'ok';
    if (l.startsWith('instantiate trap ')) return 'trap ' + category(l.slice(17));
    return 'error';
  };
  if (!s.ended && s.calls.length === 0 && s.head.length === 0)
    return {verdict: 'mismatch', calls: 0, kind: 'crash', detail: 'sbx produced no transcript (crash?)'};
  if (instKey(s) !== instKey(n)) {
    if (!n.ended && n.head.length === 0 && n.calls.length === 0)
      return {verdict: 'agree', calls: 0, detail: 'node timed out while instantiating'};
    return {
      verdict: 'mismatch', calls: 0, kind: 'instantiation',
      detail: 'instantiation: sbx: ' + instKey(s) + ' | node: ' + instKey(n),
    };
  }
  if (instKey(s) !== 'ok') return {verdict: 'agree', calls: 0, detail: 'instantiation failed in both'};

  let calls = 0;
  for (let i = 0; i < Math.max(s.calls.length, n.calls.length); i++) {
    const a = s.calls[i], b = n.calls[i];
    if (a && a.outcome && outcomeKey(a.outcome) === 'trap fuel')
      return {verdict: 'agree', calls, detail: `stopped at call ${i} (${a.name}): sbx out of fuel`};
    if (!b || !b.outcome) {
      if (!n.ended)
        return {
          verdict: a && a.outcome ? 'mismatch' : 'agree', calls, kind: 'node-cut-short',
          detail: `node cut short (timeout or crash) in call ${i}` +
              (a ? ` (${a.name}), which sbx completed: ${a.outcome}` : ''),
        };
      return {verdict: 'mismatch', calls, kind: 'calls', detail: `sbx has an extra call ${i}`};
    }
    if (!a || !a.outcome) {
      if (!s.ended)
        return {verdict: 'mismatch', calls, kind: 'crash', detail: `sbx transcript ends in call ${i} (crash?)`};
      return {verdict: 'mismatch', calls, kind: 'calls', detail: `node has an extra call ${i}`};
    }
    if (a.name !== b.name)
      return {verdict: 'mismatch', calls, kind: 'calls', detail: `call ${i}: export ${a.name} vs ${b.name}`};
    const ka = outcomeKey(a.outcome), kb = outcomeKey(b.outcome);
    if (ka === 'trap stack' || kb === 'trap stack') {
      if (ka === kb) calls++;
      return {
        verdict: 'agree', calls,
        detail: `stopped at call ${i} (${a.name}): stack exhausted in ` +
            (ka === kb ? 'both' : ka === 'trap stack' ? 'sbx only' : 'node only'),
      };
    }
    const nl = Math.max(a.logs.length, b.logs.length);
    for (let j = 0; j < nl; j++) {
      if (a.logs[j] !== b.logs[j])
        return {
          verdict: 'mismatch', calls, kind: 'log',
          detail: `call ${i} (${a.name}) host call ${j}: sbx: ${a.logs[j] ?? '(none)'} | node: ${
              b.logs[j] ?? '(none)'}`,
        };
    }
    if (ka !== kb)
      return {
        verdict: 'mismatch', calls,
        kind: 'outcome sbx:' + (ka.startsWith('trap') ? ka : 'result') + ' node:' + (kb.startsWith('trap') ? kb : 'result'),
        detail: `call ${i} (${a.name}) outcome: sbx: ${a.outcome} | node: ${b.outcome}`,
      };
    calls++;
  }
  if (s.tail.join('\n') !== n.tail.join('\n'))
    return {
      verdict: 'mismatch', calls, kind: 'memory',
      detail: `final memory: sbx: ${s.tail.join(' ') || '(none)'} | node: ${n.tail.join(' ') || '(none)'}`,
    };
  return {verdict: 'agree', calls, detail: 'all calls'};
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  if (process.argv.length !== 4) {
    console.error('usage: node compare.mjs SBX.txt NODE.txt');
    process.exit(2);
  }
  const r = compare(fs.readFileSync(process.argv[2], 'utf8'), fs.readFileSync(process.argv[3], 'utf8'));
  if (process.env.COMPARE_KIND) console.log(r.verdict === 'mismatch' ? 'mismatch ' + r.kind : r.verdict);
  else console.log(`${r.verdict} ${r.calls} ${r.detail}`);
  process.exit(r.verdict === 'agree' ? 0 : r.verdict === 'invalid' ? 3 : 1);
}
