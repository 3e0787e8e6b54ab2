'use strict';
/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `node bench/throughput.js --profile chatpulse`):
 * the hottest functions by self time, and every function of Chatpulse's own code (dist/instrumentation
 * and src) with its self and inclusive ("total") time, as a share of all samples and of busy samples.
 *
 *   node bench/profile-summary.js bench/profiles/CPU.*.cpuprofile [--top 25] [--filter REGEX] [--requests N]
 *       [--skip-ms MS --window-ms MS]   only the samples of the measured window
 *       [--baseline OTHER.cpuprofile --baseline-requests M [--baseline-skip-ms MS --baseline-window-ms MS]]
 *
 * With --baseline (a profile of the uninstrumented server under the same load), it also lists the
 * functions whose self time per request grew the most: where the instrumented server spends its
 * extra time, including inside Node and V8 (GC, writev, listeners).
 *
 * --requests N divides times by N to give µs per request (the profiler's own overhead included, so
 * compare shares rather than absolute times across profiles).
 */
const fs = require('node:fs');
const path = require('node:path');

function parseArgs(argv) {
  const o = { files: [], top: 25, filter: /^(dist\/|instrumentation\/|src\/)/, requests: undefined, baseline: undefined, baselineRequests: undefined, skipMs: 0, windowMs: Infinity, baselineSkipMs: 0, baselineWindowMs: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--top') o.top = Number(argv[++i]);
    else if (a === '--filter') o.filter = new RegExp(argv[++i]);
    else if (a === '--requests') o.requests = Number(argv[++i]);
    else if (a === '--baseline') o.baseline = argv[++i];
    else if (a === '--baseline-requests') o.baselineRequests = Number(argv[++i]);
    else if (a === '--skip-ms') o.skipMs = Number(argv[++i]);
    else if (a === '--window-ms') o.windowMs = Number(argv[++i]);
    else if (a === '--baseline-skip-ms') o.baselineSkipMs = Number(argv[++i]);
    else if (a === '--baseline-window-ms') o.baselineWindowMs = Number(argv[++i]);
    else o.files.push(a);
  }
  if (o.files.length === 0) {
    console.error('usage: node bench/profile-summary.js FILE.cpuprofile [--top N] [--filter REGEX] [--requests N]');
    process.exit(2);
  }
  return o;
}

function frameKey(cf) {
  return `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
}

function shortUrl(url) {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  // throughput.js runs Chatpulse from a private copy of dist/ in a temp directory.
  const snap = /[\\/]chatpulse-bench-[^\\/]+[\\/](dist[\\/].*)$/.exec(u);
  if (snap) return snap[1];
  const i = u.indexOf('node_modules/');
  if (i !== -1) return u.slice(i + 'node_modules/'.length);
  const root = path.resolve(__dirname, '..') + path.sep;
  return u.startsWith(root) ? u.slice(root.length) : u;
}

function summarize(file, opts, quiet = false, skipMs = opts.skipMs, windowMs = opts.windowMs) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map();
  for (const n of prof.nodes) byId.set(n.id, n);
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Sample durations: timeDeltas[i] is the time before sample i.
  const deltas = prof.timeDeltas;
  const self = new Map();
  const urlOf = new Map();
  const total = new Map();
  let all = 0;
  let idle = 0;
  let at = 0; // ms since the profile started
  for (let i = 0; i < prof.samples.length; i++) {
    at += (deltas[i] ?? 0) / 1000;
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000; // ms, attributed to the sample it ends
    // --skip-ms/--window-ms: only the measured window (start-up and warm-up left out).
    if (at < skipMs || at > skipMs + windowMs) continue;
    const leaf = byId.get(prof.samples[i]);
    all += dt;
    const leafName = leaf.callFrame.functionName;
    if (leafName === '(idle)' || leafName === '(program)') {
      if (leafName === '(idle)') idle += dt;
    }
    const k = frameKey(leaf.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      const key = frameKey(cf);
      if (!urlOf.has(key)) urlOf.set(key, shortUrl(cf.url));
      if (seen.has(key)) continue; // recursion: count once per sample
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
  }
  const busy = all - idle;
  if (quiet) return { all, idle, busy, self, total };
  const pct = (ms, of) => ((100 * ms) / of).toFixed(2).padStart(6) + '%';
  const per = (ms) => (opts.requests ? `${((ms * 1000) / opts.requests).toFixed(2).padStart(8)} µs/req` : '');
  console.log(`# ${file}`);
  console.log(`sampled ${all.toFixed(0)} ms, idle ${idle.toFixed(0)} ms, busy ${busy.toFixed(0)} ms\n`);
  console.log(`## top ${opts.top} by self time (share of busy time)`);
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, opts.top)) {
    console.log(`${pct(ms, busy)} ${ms.toFixed(1).padStart(9)} ms ${per(ms)}  ${k}`);
  }
  const ours = [...total].filter(([k]) => opts.filter.test(urlOf.get(k) ?? ''));
  console.log(`\n## functions matching ${opts.filter}: self / total (share of busy time)`);
  ours.sort((a, b) => b[1] - a[1]);
  let ourSelf = 0;
  for (const [k, ms] of ours) {
    const s = self.get(k) ?? 0;
    ourSelf += s;
    console.log(`self ${pct(s, busy)} ${per(s)}  total ${pct(ms, busy)} ${per(ms)}  ${k}`);
  }
  console.log(`\nsum of self time in matching functions: ${ourSelf.toFixed(1)} ms = ${pct(ourSelf, busy).trim()} of busy time ${per(ourSelf)}`);
  return { all, idle, busy, self, total };
}

function compare(cur, base, opts) {
  if (!opts.requests || !opts.baselineRequests) {
    console.log('\n(--baseline needs --requests and --baseline-requests to compare per request)');
    return;
  }
  const us = (ms, n) => (ms * 1000) / n;
  const keys = new Set([...cur.self.keys(), ...base.self.keys()]);
  const rows = [...keys].map((k) => {
    const a = us(cur.self.get(k) ?? 0, opts.requests);
    const b = us(base.self.get(k) ?? 0, opts.baselineRequests);
    return [k, a, b, a - b];
  });
  rows.sort((x, y) => y[3] - x[3]);
  const busyA = us(cur.busy, opts.requests);
  const busyB = us(base.busy, opts.baselineRequests);
  console.log(`\n## self time per request vs baseline ${opts.baseline}`);
  console.log(`busy: ${busyA.toFixed(1)} µs/req vs ${busyB.toFixed(1)} µs/req (+${(busyA - busyB).toFixed(1)} µs)`);
  console.log('    this  baseline     delta  function');
  for (const [k, a, b, d] of rows.slice(0, opts.top)) {
    console.log(`${a.toFixed(2).padStart(8)} ${b.toFixed(2).padStart(9)} ${(d >= 0 ? '+' : '') + d.toFixed(2).padStart(8)}  ${k}`);
  }
}

const opts = parseArgs(process.argv.slice(2));
for (const f of opts.files) {
  const cur = summarize(f, opts);
  if (opts.baseline) compare(cur, summarize(opts.baseline, opts, true, opts.baselineSkipMs, opts.baselineWindowMs), opts);
}
