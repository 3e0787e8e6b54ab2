'use strict';
/**
 * Instructions per request, counted by valgrind (callgrind), for the SSE endpoint (or, with
 * --endpoint chat, the whole chat request of bench/chat-server.js) uninstrumented and under Chatpulse, with the difference split by where it runs (Chatpulse's own JS, Node's JS,
 * V8 builtins, inline-cache and hidden-class runtime, GC, the optimizing compiler, other native).
 *
 * Why: on this 2-core VM a fresh process's speed varies by several percent, so the throughput
 * benchmark cannot resolve a change of one or two points. Instruction counts do not depend on what
 * else the machine is doing (the same variant measures within about 1 %); they miss cache effects,
 * so they complement throughput.js, not replace it.
 *
 * Method: each server runs under `valgrind --tool=callgrind --instr-atstart=no`; a count-based
 * driver sends --warmup requests (not counted, so the JIT reaches steady state), counting is
 * switched on with `callgrind_control -i on`, --requests more are sent, counting is switched off.
 * JIT-compiled functions are named from the process's `--perf-basic-prof` map. Variants run --jobs at
 * a time (default 2). The counts do not depend on the machine's speed, but V8's tiering does: a server
 * measured alone gets its background compiles done sooner than one sharing the CPUs, and reached the
 * counted window with more optimized code (the chat endpoint read ~20,000 – 30,000 instructions a request lower
 * alone than in a pair). Compare variants measured alike: all in pairs, or --jobs 1.
 *
 *   npm run build && node bench/instructions.js [--warmup 10000] [--requests 5000] [--variants uninstrumented,chatpulse]
 *                                               [--ref NAME=DIST] [--top 25] [--json out.json]
 *                                               [--endpoint stream|chat] [--keep DIR] [--jobs 1|2] [--cache-sim 1]
 * --cache-sim 1 also simulates the caches (valgrind's model of this CPU's) and reports misses per
 * request: what the hooks' code and data cost the app's cache footprint. About twice as slow.
 * --keep DIR keeps each variant's callgrind file and JIT map (DIR/VARIANT.cg, DIR/VARIANT.map).
 * --endpoint chat needs Redis and Postgres (see bench/chat-server.js); the Postgres and Redis work is
 * outside the counted process, so the figure is the server's own instructions per request.
 * Variants: uninstrumented, chatpulse, chatpulse-no-http|no-ioredis|no-pg (one hook off),
 * chatpulse-hooks-off (every hook off: the control for what loading Chatpulse alone moves), and
 * --ref NAME=DIST. A window of 3,000 – 5,000 requests may or may not hold a major GC and late
 * compiles; --requests 15000 holds several, and GC per request then compares between variants.
 * Needs valgrind (Debian: apt-get install valgrind). Takes about 2 minutes for two variants
 * (about 5 minutes a variant with --warmup 12000 --requests 15000).
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { attribute, CATEGORIES, byCategory } = require('./lib/callgrind');
const { drive } = require('./lib/drive');
const { parseRef, registerOf } = require('./lib/ref');

const ROOT = path.join(__dirname, '..');
const SERVERS = { stream: path.join(__dirname, 'sse-server.js'), chat: path.join(__dirname, 'chat-server.js') };
// The switches set per variant: the per-hook ablation (as in throughput.js), and every hook off,
// a control that loads and starts Chatpulse (its heap, its runtime) with no per-request work.
const HOOKS = ['CHATPULSE_INSTRUMENT_HTTP', 'CHATPULSE_INSTRUMENT_IOREDIS', 'CHATPULSE_INSTRUMENT_PG', 'CHATPULSE_INSTRUMENT_GENAI'];
const ABLATIONS = {
  'chatpulse-no-http': ['CHATPULSE_INSTRUMENT_HTTP'],
  'chatpulse-no-ioredis': ['CHATPULSE_INSTRUMENT_IOREDIS'],
  'chatpulse-no-pg': ['CHATPULSE_INSTRUMENT_PG'],
  'chatpulse-hooks-off': HOOKS,
};

function parseArgs(argv) {
  const o = { warmup: 10000, requests: 5000, variants: ['uninstrumented', 'chatpulse'], refs: {}, top: 25, json: undefined, endpoint: 'stream', keep: undefined, jobs: 2, cacheSim: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--warmup') o.warmup = Number(v);
    else if (a === '--requests') o.requests = Number(v);
    else if (a === '--variants') o.variants = v.split(',');
    else if (a === '--top') o.top = Number(v);
    else if (a === '--json') o.json = v;
    else if (a === '--keep') o.keep = path.resolve(v);
    else if (a === '--cache-sim') o.cacheSim = v !== '0';
    else if (a === '--jobs') {
      o.jobs = Number(v);
      if (o.jobs !== 1 && o.jobs !== 2) throw new Error('--jobs must be 1 or 2');
    }
    else if (a === '--endpoint') {
      if (!(v in SERVERS)) throw new Error('--endpoint must be stream or chat');
      o.endpoint = v;
    }
    else if (a === '--ref') {
      const { name, dir } = parseRef(v);
      o.refs[name] = dir;
      if (!o.variants.includes(name)) o.variants.push(name);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.warmup >= 0) || !(o.requests >= 100)) throw new Error('--warmup must be >= 0 and --requests >= 100');
  return o;
}

function nodeArgsOf(variant, opts) {
  if (variant === 'uninstrumented') return [];
  if (variant === 'chatpulse' || variant in ABLATIONS) return ['--require', registerOf()];
  const dist = opts.refs[variant];
  if (dist === undefined) throw new Error(`unknown variant ${variant} (known: uninstrumented, chatpulse, ${Object.keys(ABLATIONS).join(', ')}, or --ref NAME=DIST)`);
  return ['--require', registerOf(dist)];
}

async function measure(variant, opts, dir) {
  const out = path.join(dir, `${variant}.cg`);
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', ...(opts.cacheSim ? ['--cache-sim=yes'] : []), `--callgrind-out-file=${out}`, process.execPath, '--perf-basic-prof', ...nodeArgsOf(variant, opts), SERVERS[opts.endpoint]],
    { cwd: ROOT, env: { ...process.env, ...(variant in ABLATIONS ? Object.fromEntries(ABLATIONS[variant].map((k) => [k, 'false'])) : {}), PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      stdout += c;
      const m = /ready (\d+)/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${variant}: server exited (${code}) before ready\n${stderr.slice(-2000)}`)));
  });
  await drive(port, opts.warmup, 4);
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  await drive(port, opts.requests, 4);
  execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const perfMap = path.join(os.tmpdir(), `perf-${child.pid}.map`);
  const funcs = attribute(out, perfMap, opts.requests);
  const cache = opts.cacheSim ? cacheEvents(out, opts.requests) : undefined;
  if (opts.keep !== undefined) {
    // For a closer look: callgrind_annotate --tree=caller DIR/VARIANT.cg (JIT code by address in VARIANT.map).
    fs.mkdirSync(opts.keep, { recursive: true });
    fs.copyFileSync(out, path.join(opts.keep, `${variant}.cg`));
    if (fs.existsSync(perfMap)) fs.copyFileSync(perfMap, path.join(opts.keep, `${variant}.map`));
  }
  fs.rmSync(perfMap, { force: true });
  return { funcs, cache };
}

/**
 * --cache-sim: the simulated caches' misses per request, whole process in the counted window
 * (callgrind's totals line): first-level instruction and data misses, last-level ones. What an
 * instruction count cannot show: a hook whose code or data pushes the app's out of the caches.
 */
function cacheEvents(cgFile, requests) {
  const text = fs.readFileSync(cgFile, 'utf8');
  const names = /^events:\s*(.+)$/m.exec(text)[1].trim().split(/\s+/);
  // `totals:` holds the counted window's events (`summary:` may read 0 with --instr-atstart=no).
  const values = (/^totals:\s*(.+)$/m.exec(text) ?? /^summary:\s*(.+)$/m.exec(text))[1].trim().split(/\s+/).map(Number);
  const per = Object.fromEntries(names.map((n, i) => [n, (values[i] ?? 0) / requests]));
  return { I1: per.I1mr, D1: per.D1mr + per.D1mw, LLi: per.ILmr, LLd: per.DLmr + per.DLmw };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
/** A difference with its sign: +1,234 or −1,234. */
const signed = (n) => {
  const r = Math.round(n) + 0; // + 0: no "-0"
  return r < 0 ? `−${fmt(-r)}` : `+${fmt(r)}`;
};

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-instr-'));
  console.log(`callgrind, ${opts.endpoint} endpoint: ${opts.warmup} warm-up requests, then ${opts.requests} counted, per variant (${opts.variants.join(', ')})`);
  const results = new Map();
  // --cache-sim: each variant's cache misses per request.
  const caches = new Map();
  for (let i = 0; i < opts.variants.length; i += opts.jobs) {
    const pair = opts.variants.slice(i, i + opts.jobs);
    const measured = await Promise.all(pair.map((v) => measure(v, opts, dir)));
    pair.forEach((v, j) => {
      results.set(v, measured[j].funcs);
      if (measured[j].cache !== undefined) caches.set(v, measured[j].cache);
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });

  const base = results.get('uninstrumented');
  const total = (f) => [...f.values()].reduce((a, b) => a + b, 0);
  // What a request itself runs: the optimizing compiler and GC depend on when they happen to run.
  const steady = (f) => {
    const c = byCategory(f);
    return total(f) - c.get('GC') - c.get('optimizing compiler');
  };
  console.log(`\n| variant | instructions / request | vs uninstrumented | outside compiler and GC | vs uninstrumented |\n| --- | ---: | ---: | ---: | ---: |`);
  for (const [v, f] of results) {
    const t = total(f);
    const s = steady(f);
    const vs = (a, b) => (base && v !== 'uninstrumented' ? `${signed(a - b)} (${((a / b - 1) * 100).toFixed(1)} %)` : '–');
    console.log(`| ${v} | ${fmt(t)} | ${vs(t, base ? total(base) : t)} | ${fmt(s)} | ${vs(s, base ? steady(base) : s)} |`);
  }
  if (opts.cacheSim) {
    console.log('\n| variant | L1 instruction misses / request | L1 data misses | last-level instruction misses | last-level data misses |\n| --- | ---: | ---: | ---: | ---: |');
    for (const [v, c] of caches) console.log(`| ${v} | ${fmt(c.I1)} | ${fmt(c.D1)} | ${fmt(c.LLi)} | ${fmt(c.LLd)} |`);
  }
  const json = { date: new Date().toISOString(), node: process.version, options: opts, variants: {} };
  for (const [v, f] of results) {
    json.variants[v] = { total: total(f), categories: Object.fromEntries(byCategory(f)), ...(caches.has(v) ? { cacheMissesPerRequest: caches.get(v) } : {}) };
    if (!base || v === 'uninstrumented') continue;
    const cb = byCategory(base);
    const cv = byCategory(f);
    console.log(`\n${v} − uninstrumented, instructions per request by where they run:`);
    for (const [name] of CATEGORIES) console.log(`  ${name.padEnd(30)} ${fmt(cv.get(name) - cb.get(name)).padStart(8)}`);
    const diff = [...new Set([...f.keys(), ...base.keys()])]
      .map((k) => [k, (f.get(k) ?? 0) - (base.get(k) ?? 0)])
      .sort((a, b) => b[1] - a[1]);
    console.log(`  top ${opts.top} functions by added instructions per request:`);
    for (const [k, d] of diff.slice(0, opts.top)) console.log(`  ${fmt(d).padStart(8)}  ${k.slice(0, 120)}`);
    json.variants[v].topAdded = diff.slice(0, opts.top).map(([k, d]) => ({ function: k, perRequest: d }));
  }
  if (opts.json) fs.writeFileSync(opts.json, `${JSON.stringify(json, null, 1)}\n`);
}

main().catch((err) => {
  console.error(err.stack ?? err);
  process.exit(1);
});
