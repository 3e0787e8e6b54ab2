'use strict';
/**
 * Where a server's CPU goes per request: user and system time under load, and the system calls it
 * makes, uninstrumented and under Chatpulse.
 *
 * Why: bench/instructions.js counts what the hooks add exactly, but only in user space. What share
 * of the server's whole CPU (user + system) they add is that count's share of the user-space
 * instructions times the user share of the server's CPU, provided the hooks add no system calls
 * and run at the request's average speed per instruction. This tool measures the user share (under
 * the same closed-loop load as bench/throughput.js, server pinned) and, with --syscalls, checks the
 * first condition: strace counts every system call the server makes over a fixed number of
 * requests, exactly, whatever else the machine does. Page faults and context switches per request,
 * kernel time that is not a system call, are reported beside the CPU times.
 *
 *   npm run build && node bench/cpu-split.js [--endpoint chat|stream] [--variants uninstrumented,uninstrumented-aa,chatpulse]
 *                                            [--rounds 3] [--duration 8] [--connections 16] [--syscalls 1] [--ref NAME=DIST] [--json out.json]
 *
 * --endpoint chat (default) needs Redis and Postgres, as bench/chat-server.js. Rounds rotate the
 * variants' order; each variant runs in a fresh server per round. Needs strace for --syscalls.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { installCleanup, startServer, forkTracked, pinProcess, procActivity, procCpuTimes, mainThreadCpuTimes } = require('./lib/procs');
const { provenance } = require('./lib/provenance');
const { median } = require('./lib/stats');
const { drive } = require('./lib/drive');
const { parseRef, registerOf } = require('./lib/ref');

const ROOT = path.join(__dirname, '..');
const SERVERS = { stream: path.join(__dirname, 'sse-server.js'), chat: path.join(__dirname, 'chat-server.js') };
const PATH = '/api/chat/stream';

function parseArgs(argv) {
  const o = { endpoint: 'chat', variants: ['uninstrumented', 'chatpulse'], refs: {}, rounds: 3, duration: 8, connections: 16, syscalls: false, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--endpoint') {
      if (!(v in SERVERS)) throw new Error('--endpoint must be chat or stream');
      o.endpoint = v;
    } else if (a === '--variants') o.variants = v.split(',').filter(Boolean);
    else if (a === '--rounds') o.rounds = Number(v);
    else if (a === '--duration') o.duration = Number(v);
    else if (a === '--connections') o.connections = Number(v);
    else if (a === '--syscalls') o.syscalls = v !== '0';
    else if (a === '--json') o.json = v;
    else if (a === '--ref') {
      const { name, dir } = parseRef(v);
      o.refs[name] = dir;
      if (!o.variants.includes(name)) o.variants.push(name);
    } else throw new Error(`unknown option ${a}`);
  }
  for (const v of o.variants) if (!VARIANTS.includes(v) && !(v in o.refs)) throw new Error(`--variants: unknown variant ${v} (${VARIANTS.join(', ')})`);
  if (!(o.rounds >= 1) || !Number.isInteger(o.rounds)) throw new Error('--rounds must be a positive integer');
  if (!(o.duration >= 2)) throw new Error('--duration must be at least 2 (seconds)');
  if (!Number.isInteger(o.connections) || o.connections < 1) throw new Error('--connections must be a positive integer');
  return o;
}

// uninstrumented-aa: a second uninstrumented server, the A/A control for the rounds' noise; --ref
// NAME=DIST adds another build (its dist/) as variant NAME.
const VARIANTS = ['uninstrumented', 'uninstrumented-aa', 'chatpulse'];
function nodeArgsOf(variant, opts) {
  if (variant === 'chatpulse') return ['--require', registerOf()];
  if (variant in opts.refs) return ['--require', registerOf(opts.refs[variant])];
  return [];
}
const ENV = { PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' };

const sample = (pid) => ({ ...procCpuTimes(pid), ...mainThreadCpuTimes(pid), ...procActivity(pid) });

/** One variant under load for `duration` s after a warm-up: user and system µs per request. */
async function loadOnce(variant, opts, cpus) {
  const server = startServer({ nodeArgs: nodeArgsOf(variant, opts), script: SERVERS[opts.endpoint], env: { ...process.env, ...ENV }, cwd: ROOT, cpus: cpus?.server });
  try {
    const port = await server.ready;
    const gen = forkTracked(path.join(__dirname, 'loadgen.js'), ['--ports', String(port), '--path', PATH, '--connections', String(opts.connections), '--warmup', '3', '--duration', String(opts.duration)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    if (cpus !== undefined) pinProcess(gen.pid, cpus.load);
    let start;
    const result = await new Promise((resolve, reject) => {
      gen.on('message', (m) => {
        if (m.type === 'measure-start') start = sample(server.child.pid);
        else if (m.type === 'result') resolve({ m, end: sample(server.child.pid) });
      });
      gen.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
    });
    const t = result.m.targets[0];
    if (t.errors > 0 || t.non2xx > 0) throw new Error(`${variant}: ${t.errors} errors, ${t.non2xx} non-2xx responses`);
    const user = ((result.end.user - start.user) / t.requests) * 1e6;
    const system = ((result.end.system - start.system) / t.requests) * 1e6;
    const per = (k) => (result.end[k] - start[k]) / t.requests;
    return {
      requests: t.requests,
      userMicros: user,
      systemMicros: system,
      userShare: user / (user + system),
      // The JavaScript thread's share, and what V8's helper threads (GC, compiler) and libuv's pool add.
      mainUserMicros: per('mainUser') * 1e6,
      mainSystemMicros: per('mainSystem') * 1e6,
      otherThreadsMicros: (per('user') + per('system') - per('mainUser') - per('mainSystem')) * 1e6,
      minorFaults: per('minorFaults'),
      voluntarySwitches: per('voluntarySwitches'),
      involuntarySwitches: per('involuntarySwitches'),
    };
  } finally {
    await server.stop();
  }
}

/** System calls per request of one variant, counted by strace over `n` requests after a warm-up. */
async function syscallsOnce(variant, opts, n = 2000) {
  const server = startServer({ nodeArgs: nodeArgsOf(variant, opts), script: SERVERS[opts.endpoint], env: { ...process.env, ...ENV }, cwd: ROOT });
  const out = path.join(os.tmpdir(), `cpu-split-${process.pid}-${variant}.strace`);
  try {
    const port = await server.ready;
    await drive(port, 2000, 4);
    const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(server.child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    strace.stderr.on('data', (d) => (err += d));
    // strace reports "Process N attached" (with its threads) once it is tracing.
    await new Promise((resolve, reject) => {
      const t = setInterval(() => {
        if (/attached/.test(err)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      strace.once('exit', (code) => {
        clearInterval(t);
        reject(new Error(`strace exited (${code}): ${err}`));
      });
    });
    await drive(port, n, 4);
    const exited = new Promise((r) => strace.once('exit', r));
    strace.kill('SIGINT');
    await exited;
    const calls = {};
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      // % time  seconds  usecs/call  calls  [errors]  syscall
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || !/^\d/.test(f[0]) || f[f.length - 1] === 'total') continue;
      calls[f[f.length - 1]] = Number(f[3]) / n;
    }
    return calls;
  } finally {
    fs.rmSync(out, { force: true });
    await server.stop();
  }
}

async function main() {
  installCleanup();
  const opts = parseArgs(process.argv.slice(2));
  const cores = os.cpus().length;
  // Server on CPU 0, load generator on the rest, as throughput.js --pin.
  const cpus = cores >= 2 ? { server: '0', load: `1-${cores - 1}` } : undefined;
  const rounds = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = opts.variants.map((_, i) => opts.variants[(i + r) % opts.variants.length]);
    const round = {};
    for (const v of order) round[v] = await loadOnce(v, opts, cpus);
    rounds.push(round);
    process.stderr.write(`round ${r + 1}: ${order.map((v) => `${v} user ${round[v].userMicros.toFixed(0)} µs, system ${round[v].systemMicros.toFixed(0)} µs (other threads ${round[v].otherThreadsMicros.toFixed(0)}), ${round[v].minorFaults.toFixed(2)} page faults a request`).join('; ')}\n`);
  }
  const summary = {};
  for (const v of opts.variants) {
    const rs = rounds.map((r) => r[v]);
    summary[v] = {};
    for (const k of ['userMicros', 'systemMicros', 'userShare', 'mainUserMicros', 'mainSystemMicros', 'otherThreadsMicros', 'minorFaults', 'voluntarySwitches', 'involuntarySwitches']) summary[v][k] = median(rs.map((x) => x[k]));
  }
  const syscalls = {};
  if (opts.syscalls) for (const v of opts.variants) syscalls[v] = await syscallsOnce(v, opts);

  const lines = [`CPU per request, ${opts.endpoint} endpoint, ${opts.connections} connections, ${opts.rounds} rounds of ${opts.duration} s (medians), server pinned to CPU ${cpus?.server ?? 'any'}:`, '', '| variant | user µs | system µs | user share | main thread user, system µs | other threads µs | page faults | context switches (voluntary, involuntary) |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const v of opts.variants) {
    const s = summary[v];
    lines.push(`| ${v} | ${s.userMicros.toFixed(0)} | ${s.systemMicros.toFixed(0)} | ${s.userShare.toFixed(3)} | ${s.mainUserMicros.toFixed(0)}, ${s.mainSystemMicros.toFixed(0)} | ${s.otherThreadsMicros.toFixed(0)} | ${s.minorFaults.toFixed(2)} | ${s.voluntarySwitches.toFixed(2)}, ${s.involuntarySwitches.toFixed(2)} |`);
  }
  if (opts.syscalls) {
    const names = [...new Set(opts.variants.flatMap((v) => Object.keys(syscalls[v])))].sort();
    lines.push('', 'System calls per request (strace, 2,000 requests after 2,000 warm-up ones):', '', `| system call | ${opts.variants.join(' | ')} |`, `| --- |${opts.variants.map(() => ' ---: |').join('')}`);
    for (const name of names) lines.push(`| ${name} | ${opts.variants.map((v) => (syscalls[v][name] ?? 0).toFixed(2)).join(' | ')} |`);
    lines.push(`| total | ${opts.variants.map((v) => Object.values(syscalls[v]).reduce((a, b) => a + b, 0).toFixed(2)).join(' | ')} |`);
  }
  console.log(lines.join('\n'));
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ ...provenance(), options: opts, rounds, summary, syscalls }, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.stack || String(err));
    process.exit(1);
  },
);
