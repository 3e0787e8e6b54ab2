'use strict';
/**
 * Reading callgrind output: self instructions per unit (request, call) by function, JIT-compiled
 * code named from the process's `--perf-basic-prof` map, and grouped by where it runs. Shared by
 * bench/instructions.js and bench/hook-cost.js.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** Self instructions per unit (`requests`) by function name, JIT code named from the perf map. */
function attribute(cgFile, perfMap, requests) {
  const entries = fs.existsSync(perfMap)
    ? fs
        .readFileSync(perfMap, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [a, s, ...name] = l.split(' ');
          return { start: parseInt(a, 16), size: parseInt(s, 16), name: name.join(' ') };
        })
        .sort((x, y) => x.start - y.start)
    : [];
  const nameOf = (addr) => {
    let lo = 0;
    let hi = entries.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].start <= addr) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Code space is reused: the latest entry covering the address, within a short look-back.
    for (let j = i; j >= 0 && j > i - 200; j--) if (addr < entries[j].start + entries[j].size) return `JS ${entries[j].name}`;
    return 'JS (unnamed)';
  };
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--show=Ir', cgFile], { maxBuffer: 256 << 20 }).toString();
  const funcs = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    let name = m[2].replace(/\s*\[.*\]$/, '');
    const jit = /^\?\?\?:0x([0-9a-f]+)$/.exec(name);
    if (jit) name = nameOf(parseInt(jit[1], 16));
    name = name.replace(/0x[0-9a-f]+/g, '').replace(/^JS JS:/, 'JS ');
    funcs.set(name, (funcs.get(name) ?? 0) + Number(m[1].replace(/,/g, '')) / requests);
  }
  return funcs;
}

const CATEGORIES = [
  ['chatpulse JS', (k) => k.startsWith('JS ') && k.includes('/instrumentation/')],
  ['other JS', (k) => k.startsWith('JS ')],
  ['optimizing compiler', (k) => /compiler::|Turbofan|Maglev/.test(k)],
  // With the natives a collection runs (root and object-cache visits, page bookkeeping): a counted
  // window holds one major collection or two depending on timing, so GC is read apart.
  ['GC', (k) => /Scaveng|Marking|Sweep|Heap|heap::|Evacuat|Remembered|SlotSet|BodyDescriptor|MemoryChunk|MinorMC|Concurrent|ObjectCache|RootVisitor|ActiveSystemPages|SizeFromMap/.test(k)],
  ['inline caches, hidden classes', (k) => /IC|LookupIterator|MigrateToMap|DescriptorArray|Map::|Transition|Runtime_/.test(k)],
  ['V8 builtins', (k) => k.includes('Builtins_')],
  ['other native', () => true],
];
const categoryOf = (k) => CATEGORIES.find(([, test]) => test(k))[0];

function byCategory(funcs) {
  const c = new Map(CATEGORIES.map(([name]) => [name, 0]));
  for (const [k, v] of funcs) c.set(categoryOf(k), c.get(categoryOf(k)) + v);
  return c;
}


module.exports = { attribute, CATEGORIES, categoryOf, byCategory };
