'use strict';
/**
 * What one hooked client call costs, in isolation: server-side CPU of a process making N awaited
 * calls (4 at a time) to real Redis and Postgres, with and without the ioredis and pg hooks (the
 * plain side runs Chatpulse with both switched off, `--plain runtime`, or none at all, `--plain
 * none`), in alternating fresh processes. Reports CPU µs per call and the difference per hook.
 *
 *   npm run build && node bench/hook-cost.js [--calls 20000] [--rounds 6] [--json out.json]
 *   npm run build && node bench/hook-cost.js --instructions 1 [--calls 12000] [--warmup 30000] [--dist DIR]
 *       [--kinds redis-get,pg-select,pg-insert] [--method window|diff] [--plain runtime|none] [--top 40] [--json out.json]
 *
 * CPU time per call is noisy on a shared 2-core machine (the socket system calls dominate and
 * vary by tens of µs); `--instructions 1` counts instead, under valgrind's callgrind, whatever else
 * the machine does:
 * - `--method window` (default): one run per side with counting off (`--instr-atstart=no`); after
 *   `--warmup` calls the child stops, the parent switches counting on (`callgrind_control -i on`),
 *   the child makes `--calls` calls, counting goes off. A full GC (`--expose-gc`) just before the
 *   window keeps the warm-up's major collection out of it. Per call, by function (JIT code named from
 *   `--perf-basic-prof`, bench/lib/callgrind.js) and by where it runs. Under valgrind V8 tiers
 *   functions up late, so the optimizing compiler still runs in the window: reported apart, and the
 *   figure without it is the steady per-call cost. Late lazy compiles and GC timing still move it
 *   by some hundreds of instructions per call at 4,000 calls; more calls, less of that.
 * - `--method diff`: each side runs twice, with `calls` and 3 × `calls` calls after the same
 *   warm-up; the difference of the totals over 2 × `calls` is one call's instructions (compiler and
 *   all), start-up and warm-up cancelled.
 *
 * Calls: ioredis `GET kb:<key>` (a counted cache read, hit), pg `pool.query(SELECT … $1)` and
 * `pool.query(INSERT …)`. Needs Redis on 127.0.0.1:6379 and Postgres on 127.0.0.1:5432.
 * `--kinds redis-get-local,pg-select-local`: the hook alone, on a stand-in client (localCall(),
 * sideArgs()).
 */
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const os = require('node:os');
const { attribute, CATEGORIES, categoryOf, byCategory } = require('./lib/callgrind');
const { provenance } = require('./lib/provenance');
const { median } = require('./lib/stats');
const { registerOf } = require('./lib/ref');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
let REGISTER = registerOf();
const KINDS = ['redis-get', 'pg-select', 'pg-insert'];
// Calls before the measured ones (--warmup), so the JIT reaches steady state; set by main().
let WARMUP = 3000;
// What the plain side of the real kinds runs (--plain runtime|none, sideEnv()); set by main().
let PLAIN = 'runtime';

/**
 * The `-local` kinds: the hook's own work per call, without the client library's network path. The
 * hook (from the build under test, `--dist`) patches a stand-in client whose
 * sendCommand / query replies on the next microtask: real ioredis Command objects and their
 * promises, pg-pool's callback call shape. No server, no sockets: what is left is the wrapper, the
 * reply handler and the recording.
 */
let localRecorder;
function localCall(kind) {
  const dist = process.env.HOOKCOST_DIST;
  const hooked = process.env.HOOKCOST_PATCH === '1' ? new (require(path.join(dist, 'instrumentation', 'metrics', 'recorder.js')).Recorder)() : undefined;
  localRecorder = hooked;
  if (kind === 'redis-get-local') {
    const Command = require('ioredis/built/Command').default;
    class LocalRedis {
      constructor() {
        this.options = { keyPrefix: 'hookcost:' };
      }
      sendCommand(command) {
        command.toWritable(); // what ioredis writes to the socket (and it flattens the key)
        queueMicrotask(() => command.resolve('cached context'));
        return command.promise;
      }
    }
    if (hooked) {
      const { ioredisTarget } = require(path.join(dist, 'instrumentation', 'hooks', 'ioredis.js'));
      ioredisTarget(hooked, [{ name: 'kb', prefix: 'kb:' }]).patch({ default: LocalRedis });
    }
    const redis = new LocalRedis();
    const options = { keyPrefix: 'hookcost:', replyEncoding: 'utf8' };
    return () => redis.sendCommand(new Command('get', ['kb:k'], options));
  }
  class LocalClient {
    constructor() {
      this.connectionParameters = { application_name: undefined };
    }
    query(config, values, callback) {
      queueMicrotask(() => callback(null, { rowCount: 1, rows: [{ id: 1, v: 'x' }] }));
    }
  }
  if (hooked) require(path.join(dist, 'instrumentation', 'hooks', 'pg.js')).pgTarget(hooked).patch(LocalClient);
  const client = new LocalClient();
  const text = 'SELECT id, v FROM hookcost WHERE id = $1';
  return () => new Promise((resolve, reject) => client.query(text, [1], (err, res) => (err ? reject(err) : resolve(res))));
}

/** `n` calls of `call`, four in flight, each awaited. */
async function run(call, n) {
  let left = n;
  const worker = async () => {
    while (left-- > 0) await call();
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/**
 * The warm-up, then the measured calls: CPU and wall time. Under `--method window` the parent
 * switches callgrind's counting on and off around the calls (the handshakes); a full collection
 * first, so no major GC of the warm-up's garbage lands in the window (one would move a side by
 * thousands of instructions per call); scavenges of the window's own allocations stay in.
 */
async function measureCalls(call, calls, warmup) {
  await run(call, warmup); // JIT, connections (the same in every run, so --method diff cancels it)
  const windowed = process.env.HOOKCOST_WINDOW === '1';
  if (windowed) {
    globalThis.gc?.();
    await handshake('warm');
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(call, calls);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (windowed) await handshake('done');
  return { cpuMicrosPerCall: (cpu.user + cpu.system) / calls, wallMs };
}

async function child(kind, calls, warmup) {
  if (kind.endsWith('-local')) {
    const result = await measureCalls(localCall(kind), calls, warmup);
    // The hooked side must have recorded every call, or it measured nothing.
    const recorder = localRecorder;
    if (recorder !== undefined) {
      let recorded = 0;
      if (kind === 'redis-get-local') for (const s of recorder.cacheLookups.all()) recorded += s.value;
      else for (const s of recorder.dbDuration.all()) recorded += s.value.count;
      if (recorded !== warmup + calls) throw new Error(`${kind}: recorded ${recorded} of ${warmup + calls} calls`);
    }
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
  const Redis = require('ioredis');
  const { Pool } = require('pg');
  const redis = new Redis('redis://127.0.0.1:6379', { keyPrefix: `hookcost:${process.pid}:` });
  const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', max: 4 });
  const table = `hookcost_${process.pid}`;
  await pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, v text)`);
  await redis.set('kb:k', 'cached context');
  const call =
    kind === 'redis-get'
      ? () => redis.get('kb:k')
      : kind === 'pg-select'
        ? () => pool.query(`SELECT id, v FROM ${table} WHERE id = $1`, [1])
        : () => pool.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['x']);
  const result = await measureCalls(call, calls, warmup);
  await pool.query(`DROP TABLE ${table}`);
  await redis.del('kb:k');
  redis.disconnect();
  await pool.end();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

/**
 * A side's node arguments and environment. The `-local` kinds load no Chatpulse runtime on either
 * side: the hooked one patches the stand-in client with the build's hook and a bare Recorder, so
 * the comparison is the hook's per-call work alone, not the runtime's heap and timers as well.
 */
function sideArgs(kind, hooked) {
  if (kind.endsWith('-local')) return [];
  return hooked || PLAIN === 'runtime' ? ['--require', REGISTER] : [];
}
/**
 * `--plain runtime` (the default): the plain side of the real kinds runs Chatpulse too, with the
 * ioredis and pg hooks switched off (CHATPULSE_INSTRUMENT_IOREDIS/PG=false), so both sides have the
 * same heap and timers and the difference is the hooks' per-call work. `--plain none`: the plain
 * side runs no Chatpulse (the difference then includes the loaded runtime's garbage collection).
 */
function sideEnv(kind, hooked, extra = {}) {
  const off = !hooked && PLAIN === 'runtime' ? { CHATPULSE_INSTRUMENT_IOREDIS: 'false', CHATPULSE_INSTRUMENT_PG: 'false' } : {};
  return { ...process.env, OTEL_METRICS_EXPORTER: 'none', HOOKCOST_DIST: path.dirname(path.dirname(REGISTER)), HOOKCOST_PATCH: hooked ? '1' : '0', ...off, ...extra };
}

/** Tells the parent where the child is, and waits for its answer line on stdin. */
function handshake(what) {
  return new Promise((resolve) => {
    process.stdin.once('data', () => {
      process.stdin.pause();
      resolve();
    });
    process.stdin.resume();
    process.stdout.write(`${what}\n`);
  });
}

function parseArgs(argv) {
  // --dist DIR: another build's hooks (DIR/instrumentation/register.js), to compare two versions.
  const o = { calls: 20000, rounds: 6, json: undefined, instructions: 0, dist: undefined, kinds: KINDS.join(','), method: 'window', top: 12, warmup: 3000, plain: 'runtime' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = ['json', 'dist', 'kinds', 'method', 'plain'].includes(k) ? argv[i + 1] : Number(argv[i + 1]);
  }
  return o;
}

function measure(kind, hooked, calls) {
  const args = [...sideArgs(kind, hooked), __filename, '--child', kind, String(calls), String(WARMUP)];
  const env = sideEnv(kind, hooked);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${kind} ${hooked ? 'hooked' : 'plain'} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).cpuMicrosPerCall;
}

/** Total instructions of one child run under callgrind. */
function instructions(kind, hooked, calls) {
  const outFile = path.join(os.tmpdir(), `hook-cost-${process.pid}-${kind}-${hooked}-${calls}.cg`);
  const args = ['--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, ...sideArgs(kind, hooked), __filename, '--child', kind, String(calls), String(WARMUP)];
  const r = spawnSync('valgrind', args, { cwd: ROOT, env: sideEnv(kind, hooked), encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`valgrind ${kind}: ${r.stderr.slice(-2000)}`);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(fs.readFileSync(outFile, 'utf8'));
  fs.rmSync(outFile, { force: true });
  if (m === null) throw new Error(`no totals in ${outFile}`);
  return Number(m[1]);
}

/**
 * `--method window`: one run per side under callgrind with counting off, switched on (callgrind_control)
 * only while the child makes its `calls` calls after warm-up: per-call instructions by function,
 * JIT code named from `--perf-basic-prof`. Returns the functions' instructions per call.
 */
async function windowInstructions(kind, hooked, calls) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hook-cost-'));
  const out = path.join(dir, 'out.cg');
  const args = ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, '--perf-basic-prof', '--expose-gc', ...sideArgs(kind, hooked), __filename, '--child', kind, String(calls), String(WARMUP)];
  const child = spawn('valgrind', args, { cwd: ROOT, env: sideEnv(kind, hooked, { HOOKCOST_WINDOW: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const seen = (word) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (stdout.includes(`${word}\n`)) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      const onData = (c) => {
        stdout += c;
        check();
      };
      child.stdout.on('data', onData);
      exited.then((code) => reject(new Error(`${kind}: child exited (${code}) before "${word}"\n${stderr.slice(-2000)}`)));
      check();
    });
  await seen('warm');
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  child.stdin.write('go\n');
  await seen('done');
  execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
  child.stdin.end('stop\n');
  const code = await exited;
  if (code !== 0) throw new Error(`${kind} ${hooked ? 'hooked' : 'plain'} exited ${code}: ${stderr.slice(-2000)}`);
  const perfMap = path.join(os.tmpdir(), `perf-${child.pid}.map`);
  const funcs = attribute(out, perfMap, calls);
  fs.rmSync(perfMap, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  return funcs;
}

async function countWindowInstructions(opts) {
  const out = {};
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const total = (f) => [...f.values()].reduce((a, b) => a + b, 0);
  for (const kind of opts.kinds.split(',')) {
    const [plainF, hookedF] = [await windowInstructions(kind, false, opts.calls), await windowInstructions(kind, true, opts.calls)];
    const plain = total(plainF);
    const hooked = total(hookedF);
    const cp = byCategory(plainF);
    const ch = byCategory(hookedF);
    // The optimizing compiler's share depends on when V8 tiers functions up, which a window after a
    // warm-up only partly excludes: reported as a category and a figure without it, and left out of
    // the function list.
    const diff = [...new Set([...plainF.keys(), ...hookedF.keys()])]
      .filter((k) => categoryOf(k) !== 'optimizing compiler')
      .map((k) => [k, (hookedF.get(k) ?? 0) - (plainF.get(k) ?? 0)])
      .sort((a, b) => b[1] - a[1]);
    const compiler = ch.get('optimizing compiler') - cp.get('optimizing compiler');
    out[kind] = {
      plainInstructions: Math.round(plain),
      hookedInstructions: Math.round(hooked),
      addedInstructions: Math.round(hooked - plain),
      addedWithoutCompiler: Math.round(hooked - plain - compiler),
      addedByCategory: Object.fromEntries(CATEGORIES.map(([name]) => [name, Math.round(ch.get(name) - cp.get(name))])),
      topAdded: diff.slice(0, opts.top).map(([k, d]) => ({ function: k, perCall: Math.round(d) })),
      topRemoved: diff.slice(-opts.top).reverse().map(([k, d]) => ({ function: k, perCall: Math.round(d) })),
    };
    console.log(`${kind.padEnd(10)} plain ${fmt(plain)} instructions/call, hooked ${fmt(hooked)}: added ${fmt(hooked - plain)}, ${fmt(hooked - plain - compiler)} without the optimizing compiler`);
    for (const [name] of CATEGORIES) console.log(`    ${name.padEnd(30)} ${fmt(ch.get(name) - cp.get(name)).padStart(8)}`);
    console.log(`    top ${opts.top} functions by added instructions per call (optimizing compiler left out), then the most reduced:`);
    for (const [k, d] of diff.slice(0, opts.top)) console.log(`    ${fmt(d).padStart(8)}  ${k.slice(0, 110)}`);
    for (const [k, d] of diff.slice(-5).reverse()) console.log(`    ${fmt(d).padStart(8)}  ${k.slice(0, 110)}`);
  }
  return out;
}

function countInstructions(opts) {
  const out = {};
  for (const kind of opts.kinds.split(',')) {
    const perCall = (hooked) => (instructions(kind, hooked, 3 * opts.calls) - instructions(kind, hooked, opts.calls)) / (2 * opts.calls);
    const plain = perCall(false);
    const hooked = perCall(true);
    out[kind] = { plainInstructions: Math.round(plain), hookedInstructions: Math.round(hooked), addedInstructions: Math.round(hooked - plain) };
    console.log(`${kind.padEnd(10)} plain ${Math.round(plain).toLocaleString('en-US')} instructions/call, hooked ${Math.round(hooked).toLocaleString('en-US')}: added ${Math.round(hooked - plain).toLocaleString('en-US')}`);
  }
  return out;
}

/** The commit of this harness and the identity (hash, build time) of the build measured (--dist). */
function provenanceOf() {
  const dist = path.dirname(path.dirname(REGISTER));
  return { ...provenance(dist), dist };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  WARMUP = opts.warmup;
  if (opts.plain !== 'runtime' && opts.plain !== 'none') throw new Error('--plain must be runtime or none');
  PLAIN = opts.plain;
  if (opts.dist !== undefined) REGISTER = registerOf(path.resolve(opts.dist));
  else if (!fs.existsSync(REGISTER)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (opts.instructions) {
    if (opts.method !== 'window' && opts.method !== 'diff') throw new Error('--method must be window or diff');
    const out = opts.method === 'window' ? await countWindowInstructions(opts) : countInstructions(opts);
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...provenanceOf(), options: opts, method: `callgrind-${opts.method}`, results: out }, null, 2) + '\n');
    return;
  }
  const out = {};
  for (const kind of opts.kinds.split(',')) {
    const plain = [];
    const hooked = [];
    const diffs = [];
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate the order so a drift of the machine's speed does not favour one side.
      const a = r % 2 === 0 ? measure(kind, false, opts.calls) : undefined;
      const b = measure(kind, true, opts.calls);
      const c = a === undefined ? measure(kind, false, opts.calls) : a;
      plain.push(c);
      hooked.push(b);
      diffs.push(b - c);
    }
    out[kind] = { plainMicros: median(plain), hookedMicros: median(hooked), addedMicrosMedian: median(diffs), addedMicrosMin: Math.min(...diffs), addedMicrosMax: Math.max(...diffs) };
    const o = out[kind];
    console.log(
      `${kind.padEnd(10)} plain ${o.plainMicros.toFixed(2)} µs/call, hooked ${o.hookedMicros.toFixed(2)} µs/call: added ${o.addedMicrosMedian.toFixed(2)} µs (${o.addedMicrosMin.toFixed(2)} – ${o.addedMicrosMax.toFixed(2)}) over ${opts.rounds} rounds`,
    );
  }
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...provenanceOf(), options: opts, results: out }, null, 2) + '\n');
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]), Number(process.argv[5] ?? 3000)).catch((e) => {
  process.stderr.write(String(e && e.stack) + '\n');
  process.exit(1);
});
else
  main().catch((e) => {
    console.error(e.stack ?? e);
    process.exit(1);
  });
