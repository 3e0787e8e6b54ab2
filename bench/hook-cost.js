'use strict';
/**
 * What one hooked client call costs, in isolation: server-side CPU of a process making N awaited
 * calls (4 at a time) to real Redis and Postgres, with and without `--require chatpulse/register`,
 * in alternating fresh processes. Reports CPU µs per call and the difference per hook.
 *
 *   npm run build && node bench/hook-cost.js [--calls 20000] [--rounds 6] [--json out.json]
 *   npm run build && node bench/hook-cost.js --instructions 1 [--calls 4000] [--dist DIR]
 *
 * CPU time per call is noisy on a shared 2-core machine (the socket system calls dominate and
 * vary by tens of µs); `--instructions 1` counts instead, under valgrind's callgrind: each side runs
 * twice, with `calls` and with 3 × `calls` calls after the same warm-up, and the difference of the
 * totals divided by 2 × `calls` is the instructions of one call, start-up and warm-up cancelled.
 * Deterministic to about 1 %, whatever else the machine does.
 *
 * Calls: ioredis `GET kb:<key>` (a counted cache read, hit), pg `pool.query(SELECT … $1)` and
 * `pool.query(INSERT …)`. Needs Redis on 127.0.0.1:6379 and Postgres on 127.0.0.1:5432.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
let REGISTER = path.join(ROOT, 'dist', 'instrumentation', 'register.js');
const KINDS = ['redis-get', 'pg-select', 'pg-insert'];

async function child(kind, calls) {
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
  const run = async (n) => {
    let left = n;
    const worker = async () => {
      while (left-- > 0) await call();
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
  await run(3000); // warm-up: JIT, connections (the same in every run, so --instructions cancels it)
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(calls);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await pool.query(`DROP TABLE ${table}`);
  await redis.del('kb:k');
  redis.disconnect();
  await pool.end();
  process.stdout.write(JSON.stringify({ cpuMicrosPerCall: (cpu.user + cpu.system) / calls, wallMs }) + '\n');
  process.exit(0);
}

function parseArgs(argv) {
  // --dist DIR: another build's hooks (DIR/instrumentation/register.js), to compare two versions.
  const o = { calls: 20000, rounds: 6, json: undefined, instructions: 0, dist: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = k === 'json' || k === 'dist' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return o;
}

function measure(kind, hooked, calls) {
  const args = [...(hooked ? ['--require', REGISTER] : []), __filename, '--child', kind, String(calls)];
  const env = { ...process.env, OTEL_METRICS_EXPORTER: 'none' };
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${kind} ${hooked ? 'hooked' : 'plain'} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).cpuMicrosPerCall;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Total instructions of one child run under callgrind. */
function instructions(kind, hooked, calls) {
  const outFile = path.join(require('node:os').tmpdir(), `hook-cost-${process.pid}-${kind}-${hooked}-${calls}.cg`);
  const args = ['--tool=callgrind', `--callgrind-out-file=${outFile}`, process.execPath, ...(hooked ? ['--require', REGISTER] : []), __filename, '--child', kind, String(calls)];
  const r = spawnSync('valgrind', args, { cwd: ROOT, env: { ...process.env, OTEL_METRICS_EXPORTER: 'none' }, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`valgrind ${kind}: ${r.stderr.slice(-2000)}`);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(fs.readFileSync(outFile, 'utf8'));
  fs.rmSync(outFile, { force: true });
  if (m === null) throw new Error(`no totals in ${outFile}`);
  return Number(m[1]);
}

function countInstructions(opts) {
  const out = {};
  for (const kind of KINDS) {
    const perCall = (hooked) => (instructions(kind, hooked, 3 * opts.calls) - instructions(kind, hooked, opts.calls)) / (2 * opts.calls);
    const plain = perCall(false);
    const hooked = perCall(true);
    out[kind] = { plainInstructions: Math.round(plain), hookedInstructions: Math.round(hooked), addedInstructions: Math.round(hooked - plain) };
    console.log(`${kind.padEnd(10)} plain ${Math.round(plain).toLocaleString('en-US')} instructions/call, hooked ${Math.round(hooked).toLocaleString('en-US')}: added ${Math.round(hooked - plain).toLocaleString('en-US')}`);
  }
  return out;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.dist !== undefined) REGISTER = path.resolve(opts.dist, 'instrumentation', 'register.js');
  else if (!fs.existsSync(REGISTER)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (opts.instructions) {
    const out = countInstructions(opts);
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ node: process.version, calls: opts.calls, method: 'callgrind', results: out }, null, 2) + '\n');
    return;
  }
  const out = {};
  for (const kind of KINDS) {
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
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ node: process.version, calls: opts.calls, rounds: opts.rounds, results: out }, null, 2) + '\n');
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4])).catch((e) => {
  process.stderr.write(String(e && e.stack) + '\n');
  process.exit(1);
});
else main();
