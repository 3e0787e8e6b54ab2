'use strict';
/**
 * Megamorphic inline-cache misses per request: a noise-free proxy for the hook's hidden cost.
 *
 * Node's http objects (and Express's, which re-prototypes them per request) reach most property
 * sites with a map the site has not seen, so the first read of a property name on a request's
 * objects often misses V8's megamorphic stub cache and goes to the runtime (~0.5-1 µs each). The
 * uninstrumented server already pays ~100 of these per request; every extra property a hook reads
 * on req/res adds one. Wall-clock figures on a shared VM swing by several percent; these counts
 * do not.
 *
 * Runs bench/sse-server.js under `node --log-ic` per variant, loads it with bench/loadgen.js, and
 * prints misses per request and the property names that differ from the uninstrumented server.
 *
 *   npm run build && node bench/ic-misses.js [--duration 3] [--variants uninstrumented,chatpulse] [--ref NAME=DIST]
 */
const { spawn, fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { parseRef, registerOf } = require('./lib/ref');

const ROOT = path.join(__dirname, '..');

function parseArgs(argv) {
  const o = { duration: 3, variants: ['uninstrumented', 'chatpulse'], refs: {}, top: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--duration') o.duration = Number(v);
    else if (a === '--variants') o.variants = v.split(',').filter(Boolean);
    else if (a === '--top') o.top = Number(v);
    else if (a === '--ref') {
      const { name, dir } = parseRef(v);
      o.refs[name] = dir;
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.duration > 0)) throw new Error('--duration must be positive');
  return o;
}

function preloadOf(variant, refs) {
  if (variant === 'uninstrumented') return [];
  if (variant === 'chatpulse') return ['--require', registerOf()];
  if (refs[variant]) return ['--require', registerOf(refs[variant])];
  if (variant === 'floor-hook' || variant === 'bare-hook') return ['--require', path.join(__dirname, 'experiments', `${variant}.js`)];
  throw new Error(`unknown variant ${variant} (uninstrumented, chatpulse, floor-hook, bare-hook, or a --ref NAME)`);
}

async function run(variant, opts) {
  const logFile = path.join(os.tmpdir(), `chatpulse-ic-${process.pid}-${variant}.log`);
  const child = spawn(
    process.execPath,
    ['--log-ic', `--logfile=${logFile}`, '--no-logfile-per-isolate', ...preloadOf(variant, opts.refs), path.join(__dirname, 'sse-server.js')],
    { cwd: ROOT, env: { ...process.env, PORT: '0', OTEL_EXPORTER_PROMETHEUS_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      rl.on('line', (l) => l.startsWith('ready ') && resolve(Number(l.slice(6))));
      child.once('exit', (c) => reject(new Error(`${variant} exited with ${c} before ready`)));
    });
    const result = await new Promise((resolve, reject) => {
      const lg = fork(path.join(__dirname, 'loadgen.js'), ['--ports', String(port), '--connections', '16', '--warmup', '0', '--duration', String(opts.duration)]);
      lg.on('message', (m) => m.type === 'result' && resolve(m));
      lg.once('exit', (c) => c !== 0 && reject(new Error(`loadgen exited with ${c}`)));
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const requests = result.targets[0].total;
    const byKey = new Map();
    let misses = 0;
    const rl = readline.createInterface({ input: fs.createReadStream(logFile) });
    for await (const line of rl) {
      // LoadIC,pc,time,line,column,old,new,map,key,modifier,slow_reason: a miss that stays megamorphic.
      if (!line.includes('IC,')) continue;
      const f = line.split(',');
      if (!f[0].endsWith('IC') || f[5] !== 'N' || f[6] !== 'N') continue;
      misses++;
      // Symbols print with a per-process hash: drop it so runs compare.
      const key = `${f[0]} ${f[8].replace(/ hash [0-9a-f]+\)$/, ')')}`;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    return { variant, requests, misses, perRequest: misses / requests, byKey };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(logFile, { force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const results = [];
  for (const v of opts.variants) {
    const r = await run(v, opts);
    results.push(r);
    console.log(`${v.padEnd(16)} ${String(r.requests).padStart(6)} requests  ${r.perRequest.toFixed(1)} megamorphic IC misses per request`);
  }
  const base = results.find((r) => r.variant === 'uninstrumented');
  if (base === undefined) return;
  for (const r of results) {
    if (r === base) continue;
    const keys = new Set([...r.byKey.keys(), ...base.byKey.keys()]);
    const diff = [...keys]
      .map((k) => [k, (r.byKey.get(k) ?? 0) / r.requests - (base.byKey.get(k) ?? 0) / base.requests])
      .filter(([, d]) => Math.abs(d) >= 0.2)
      .sort((a, b) => b[1] - a[1]);
    console.log(`\n${r.variant} vs uninstrumented: ${(r.perRequest - base.perRequest).toFixed(1)} misses per request; by site (per request, |Δ| ≥ 0.2):`);
    for (const [k, d] of diff.slice(0, opts.top)) console.log(`  ${d >= 0 ? '+' : ''}${d.toFixed(2)}  ${k}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
