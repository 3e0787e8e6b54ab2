'use strict';
/**
 * Throughput of a streaming SSE chatbot endpoint (bench/sse-server.js) under three variants,
 * interleaved in one run:
 *
 *   uninstrumented  node bench/sse-server.js
 *   chatpulse       node --require ./dist/instrumentation/register.js bench/sse-server.js
 *                   (default config: Prometheus exporter, here on a free port, scraped every second)
 *   otel-auto       node --require @opentelemetry/auto-instrumentations-node/register bench/sse-server.js
 *                   (OTEL_TRACES_EXPORTER=none, OTEL_METRICS_EXPORTER=prometheus, OTEL_LOGS_EXPORTER=none,
 *                   Prometheus on a free port, scraped every second)
 *
 * Each round runs every variant once, in a freshly shuffled order; each measurement is a fresh server
 * process, a warm-up, then a fixed window measured by a separate closed-loop load generator process
 * (bench/loadgen.js: fixed connection count, keep-alive). Server CPU over the window comes from
 * /proc/<pid>/stat (utime+stime, all threads), so it includes the Prometheus scrapes. Other load on
 * the machine is measured (/proc/stat) and waited out or retried (--max-background, --wait-quiet,
 * --retries); with --endpoint chat, the CPU of the servers' Postgres backends and of Redis is the
 * requests' own work, reported apart (postgres+redis) and not counted as other load. --mode sliced keeps one fresh server per variant alive per round and loads them in
 * turn in --slice-ms slices, which cancels slow drifts of the machine's speed (see bench/README.md).
 *
 *   npm run bench                      # builds, then runs this with the defaults
 *   node bench/throughput.js --rounds 5 --duration 5 --warmup 2 --connections 16 --json out.json
 *   node bench/throughput.js --mode sliced --rounds 6
 *   node bench/throughput.js --variants uninstrumented,chatpulse,floor-hook,bare-hook --mode sliced
 *   node bench/throughput.js --profile chatpulse --duration 10   # --cpu-prof one server under load
 *   node bench/throughput.js --mode sliced --variants uninstrumented,chatpulse --cpu-prof uninstrumented,chatpulse
 *
 * Child processes are always killed: on exit, error, Ctrl-C, SIGTERM and SIGHUP (bench/lib/procs.js);
 * servers also exit when this process's stdin pipe to them closes, the load generator when its IPC
 * channel does, so not even `kill -9` of this process leaves them behind.
 */
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { pinProcess, installCleanup, startServer, forkTracked, procCpuSeconds, machineBusySeconds, cpuByCommand } = require('./lib/procs');
const { median } = require('./lib/stats');
const { parseRef, registerOf } = require('./lib/ref');

const ROOT = path.resolve(__dirname, '..');
// The endpoint under test (--endpoint): the stream alone, or a whole chat request (Redis, Postgres
// and the stream: bench/chat-server.js); set by main().
const SERVERS = { stream: path.join(__dirname, 'sse-server.js'), chat: path.join(__dirname, 'chat-server.js') };
let SERVER = SERVERS.stream;
const LOADGEN = path.join(__dirname, 'loadgen.js');
// The build under test. main() points this at a private copy of dist/ taken when the run starts, so
// that a `npm run build` by someone else during the run cannot change the code half-way.
let DIST = path.join(ROOT, 'dist');
let REGISTER = registerOf(DIST);
const STREAM_PATH = '/api/chat/stream';
// The endpoint's write pattern (--shape), passed to every server as BENCH_SSE_SHAPE; set by main().
let SHAPE = 'burst';
// The token events' wire format (--format), passed as BENCH_SSE_FORMAT; set by main().
let FORMAT = 'generic';
// --pin: the CPU every server runs on (the load generator and this process get the others); set by main().
let SERVER_CPUS;

function usage() {
  return `usage: node bench/throughput.js [--rounds N=5] [--duration S=5] [--warmup S=4] [--connections C=16]
                                [--variants uninstrumented,uninstrumented-aa,chatpulse,otel-auto] [--json out.json] [--seed N]
                                [--max-background CORES=0.25] [--retries N=1] [--wait-quiet S=20] [--budget S=240]
                                [--mode sequential|sliced] [--slice-ms MS=250]
                                [--shape burst|per-token]   # the endpoint's writes: two event-loop turns, or one event per turn
                                [--format generic|openai|ai-sdk|model]   # the token events' wire format (bench/sse-server.js); model: relayed from a model server through the openai SDK
                                [--endpoint stream|chat]   # the stream alone, or a whole chat request with Redis and Postgres (bench/chat-server.js)
                                [--pin]   # servers on the last CPU, load generator and this process on the others (taskset)
                                [--cpu-prof VARIANT,... [--profile-dir DIR]]   # profile these variants' servers
                                [--ref-dist DIR]   # adds variant chatpulse-ref: DIR/instrumentation/register.js (another build)
                                [--ref NAME=DIR]   # adds variant NAME the same way (repeatable: several builds in one run)
                                [--profile chatpulse|otel-auto|uninstrumented [--profile-dir DIR]]`;
}

function parseArgs(argv) {
  const o = {
    rounds: 5,
    duration: 5,
    warmup: 4,
    connections: 16,
    variants: ['uninstrumented', 'uninstrumented-aa', 'chatpulse', 'otel-auto'],
    json: undefined,
    seed: undefined,
    profile: undefined,
    profileDir: path.join(__dirname, 'profiles'),
    maxBackground: 0.25,
    retries: 1,
    waitQuiet: 20,
    budget: 240,
    refDist: undefined,
    refs: [],
    mode: 'sequential',
    shape: process.env.BENCH_SSE_SHAPE === 'per-token' ? 'per-token' : 'burst',
    format: process.env.BENCH_SSE_FORMAT || 'generic',
    endpoint: 'stream',
    cpuProf: [],
    sliceMs: 250,
    pin: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      return v;
    };
    const num = () => {
      const n = Number(next());
      if (!(n > 0)) throw new Error(`${a} must be a positive number\n${usage()}`);
      return n;
    };
    if (a === '--rounds') o.rounds = Math.floor(num());
    else if (a === '--duration') o.duration = num();
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--connections') o.connections = Math.floor(num());
    else if (a === '--variants') o.variants = next().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--json') o.json = next();
    else if (a === '--seed') o.seed = Math.floor(Number(next()));
    else if (a === '--profile') o.profile = next();
    else if (a === '--max-background') o.maxBackground = Number(next());
    else if (a === '--retries') o.retries = Math.max(0, Math.floor(Number(next())));
    else if (a === '--wait-quiet') o.waitQuiet = Math.max(0, Number(next()));
    else if (a === '--budget') o.budget = Math.max(0, Number(next()));
    else if (a === '--ref-dist') o.refDist = path.resolve(next());
    else if (a === '--ref') o.refs.push(parseRef(next()));
    else if (a === '--mode') o.mode = next();
    else if (a === '--shape') o.shape = next();
    else if (a === '--format') o.format = next();
    else if (a === '--endpoint') o.endpoint = next();
    else if (a === '--pin') o.pin = true;
    else if (a === '--cpu-prof') o.cpuProf = next().split(',').map((x) => x.trim()).filter(Boolean);
    else if (a === '--slice-ms') o.sliceMs = num();
    else if (a === '--profile-dir') o.profileDir = path.resolve(next());
    else if (a === '--help' || a === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${usage()}`);
  }
  if (!(o.warmup >= 0)) throw new Error('--warmup must be >= 0');
  if (o.shape !== 'burst' && o.shape !== 'per-token') throw new Error('--shape must be burst or per-token');
  if (!['generic', 'openai', 'ai-sdk', 'model'].includes(o.format)) throw new Error('--format must be generic, openai, ai-sdk or model');
  if (!(o.endpoint in SERVERS)) throw new Error('--endpoint must be stream or chat');
  if (o.mode !== 'sequential' && o.mode !== 'sliced') throw new Error(`--mode must be sequential or sliced\n${usage()}`);
  return o;
}

/** Chatpulse with default config, preloaded through one of bench/experiments/ (which loads register.js). */
function chatpulseExperiment(label, file) {
  const preload = path.join(__dirname, 'experiments', file);
  return {
    label,
    command: `node --require ./bench/experiments/${file} bench/sse-server.js`,
    prometheus: true,
    nodeArgs: () => ['--require', preload],
    env: (promPort) => ({
      CHATPULSE_BENCH_DIST: DIST,
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort),
    }),
    recorded: /^chatbot_streams_total\{[^}]*http_route="\/api\/chat\/stream"[^}]*\} (\S+)/gm,
  };
}

/** A bare mechanism of the HTTP hook, without Chatpulse (bench/experiments/mech-*.js). */
function mechanism(label, file) {
  const preload = path.join(__dirname, 'experiments', file);
  return {
    label,
    command: `node --require ./bench/experiments/${file} bench/sse-server.js`,
    prometheus: false,
    nodeArgs: () => ['--require', preload],
    env: () => ({}),
  };
}

/**
 * Chatpulse with its HTTP, ioredis and pg hooks off: the runtime alone. `exporter`: the Prometheus
 * exporter `scraped` like the other variants, listening but `unscraped`, or `none`.
 */
function hooksOff(label, exporter, extraEnv) {
  const hooks = { CHATPULSE_INSTRUMENT_HTTP: 'false', CHATPULSE_INSTRUMENT_IOREDIS: 'false', CHATPULSE_INSTRUMENT_PG: 'false' };
  const shown = { ...hooks, ...extraEnv };
  return {
    label,
    command: `${Object.entries(shown).map(([k, v]) => `${k}=${v}`).join(' ')} node --require ./dist/instrumentation/register.js bench/sse-server.js${exporter === 'unscraped' ? '  # not scraped' : ''}`,
    prometheus: exporter === 'scraped',
    nodeArgs: () => ['--require', REGISTER],
    env: (promPort) => ({
      ...hooks,
      ...(exporter === 'scraped' ? { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort) } : {}),
      ...(exporter === 'unscraped' ? { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' } : {}),
      ...extraEnv,
    }),
  };
}

/** The three variants: how to start the server and which metric proves it recorded the streams. */
const VARIANTS = {
  uninstrumented: {
    label: 'uninstrumented',
    command: 'node bench/sse-server.js',
    prometheus: false,
    nodeArgs: () => [],
    env: () => ({}),
  },
  chatpulse: {
    label: 'chatpulse',
    command: 'node --require ./dist/instrumentation/register.js bench/sse-server.js',
    prometheus: true,
    nodeArgs: () => ['--require', REGISTER],
    env: (promPort) => ({ OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort) }),
    // Streams the instrumentation counted, from its own scrape.
    recorded: /^chatbot_streams_total\{[^}]*http_route="\/api\/chat\/stream"[^}]*\} (\S+)/gm,
  },
  'otel-auto': {
    label: 'otel-auto',
    command:
      'OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=prometheus OTEL_LOGS_EXPORTER=none node --require @opentelemetry/auto-instrumentations-node/register bench/sse-server.js',
    prometheus: true,
    nodeArgs: () => ['--require', '@opentelemetry/auto-instrumentations-node/register'],
    env: (promPort) => ({
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort),
      // Only local detectors: the cloud ones (gcp, aws, azure, alibaba) probe metadata addresses off
      // this machine, which a benchmark must not do (and which would only slow the start).
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance',
    }),
    recorded: /^http_server_request_duration_count\{[^}]*http_route="\/api\/chat\/stream"[^}]*\} (\S+)/gm,
  },
  // A second uninstrumented server (A/A control): its ratio's spread is the noise floor of the run.
  'uninstrumented-aa': {
    label: 'uninstrumented-aa',
    command: 'node bench/sse-server.js  # A/A control',
    prometheus: false,
    nodeArgs: () => [],
    env: () => ({}),
  },
  // Diagnostic variants (not run by default): which part of chatpulse costs what.
  'bare-hook': mechanism('bare-hook', 'bare-hook.js'),
  'floor-hook': mechanism('floor-hook', 'floor-hook.js'),
  'chatpulse-hooks-only': {
    label: 'chatpulse-hooks-only',
    command: 'OTEL_METRICS_EXPORTER=none node --require ./dist/instrumentation/register.js bench/sse-server.js',
    prometheus: false,
    nodeArgs: () => ['--require', REGISTER],
    env: () => ({ OTEL_METRICS_EXPORTER: 'none' }),
  },
  'chatpulse-export-only': hooksOff('chatpulse-export-only', 'scraped', {}),
  // The exporter listening but never scraped: its presence without the scrapes.
  'chatpulse-export-unscraped': hooksOff('chatpulse-export-unscraped', 'unscraped', { OTEL_EXPORTER_PROMETHEUS_PORT: '0' }),
  // Loaded and started, but nothing to do: no hooks, no exporter (the process sampler still runs).
  'chatpulse-loaded-only': hooksOff('chatpulse-loaded-only', 'none', { OTEL_METRICS_EXPORTER: 'none' }),
  // Per-hook ablation (for --endpoint chat): Chatpulse with one hook switched off, so each hook's
  // share is the difference to the full variant.
  'chatpulse-no-http': oneHookOff('CHATPULSE_INSTRUMENT_HTTP'),
  'chatpulse-no-ioredis': oneHookOff('CHATPULSE_INSTRUMENT_IOREDIS'),
  'chatpulse-no-pg': oneHookOff('CHATPULSE_INSTRUMENT_PG'),
  // The first-token breakdown (an async context per request) on and off: its cost is the difference.
  'chatpulse-breakdown': {
    label: 'chatpulse-breakdown',
    command: 'CHATPULSE_FIRST_TOKEN_BREAKDOWN=true node --require ./dist/instrumentation/register.js bench/<endpoint>-server.js',
    prometheus: true,
    nodeArgs: () => ['--require', REGISTER],
    env: (promPort) => ({ CHATPULSE_FIRST_TOKEN_BREAKDOWN: 'true', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort) }),
  },
  'chatpulse-no-breakdown': oneHookOff('CHATPULSE_FIRST_TOKEN_BREAKDOWN'),
};

function oneHookOff(variable) {
  const name = `chatpulse-no-${variable.split('_').pop().toLowerCase()}`;
  return {
    label: name,
    command: `${variable}=false node --require ./dist/instrumentation/register.js bench/<endpoint>-server.js`,
    prometheus: true,
    nodeArgs: () => ['--require', REGISTER],
    env: (promPort) => ({ [variable]: 'false', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort) }),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function get(port, p, agent, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
  });
}

async function waitForMetrics(port, deadlineMs = 15_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      const r = await get(port, '/metrics', undefined, 1000);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`Prometheus endpoint on port ${port} did not answer`);
    await sleep(50);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One response of the stream endpoint must be what the load generator is about to hammer. */
async function validateStream(port) {
  const r = await get(port, STREAM_PATH);
  // The token events of the endpoint's wire format, and how many it writes.
  const pattern =
    SERVER === SERVERS.chat ? /^data: \{"token":/gm : FORMAT === 'openai' ? /"delta":\{"content":/g : FORMAT === 'ai-sdk' ? /"type":"text-delta"/g : FORMAT === 'model' ? /^data: /gm : /^data: \{"token":/gm;
  const expected = SERVER === SERVERS.chat ? 20 : FORMAT === 'model' ? undefined : 10;
  const tokens = (r.body.match(pattern) ?? []).length;
  const ok =
    r.status === 200 &&
    String(r.headers['content-type']).startsWith('text/event-stream') &&
    (expected === undefined ? tokens > 0 : tokens === expected) &&
    r.body.includes('event: audio\n') &&
    r.body.includes('event: done\n');
  if (!ok) throw new Error(`unexpected stream response: status ${r.status}, ${tokens} tokens\n${r.body.slice(0, 500)}`);
}

/** Scrapes like Prometheus would: every second, keep-alive, full body read. */
function startScraper(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const stats = { scrapes: 0, errors: 0, bytes: 0, maxMs: 0 };
  let timer;
  let stopped = false;
  const tick = async () => {
    const t0 = performance.now();
    try {
      const r = await get(port, '/metrics', agent);
      if (r.status === 200) {
        stats.scrapes++;
        stats.bytes = r.body.length;
      } else stats.errors++;
    } catch {
      stats.errors++;
    }
    stats.maxMs = Math.max(stats.maxMs, performance.now() - t0);
    if (!stopped) timer = setTimeout(tick, Math.max(0, 1000 - (performance.now() - t0)));
  };
  timer = setTimeout(tick, 1000);
  return {
    stats,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      agent.destroy();
    },
  };
}

function runLoad(ports, opts, onMeasureStart) {
  return new Promise((resolve, reject) => {
    const child = forkTracked(
      LOADGEN,
      [
        '--ports', ports.join(','),
        '--path', STREAM_PATH,
        '--connections', String(opts.connections),
        '--warmup', String(opts.warmup),
        '--duration', String(opts.duration),
        '--slice-ms', String(opts.sliceMs),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let result;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator did not finish in time'));
    }, ((opts.warmup + opts.duration) * ports.length + 30) * 1000);
    child.on('message', (m) => {
      if (m.type === 'measure-start') onMeasureStart(m.cpuSeconds);
      else if (m.type === 'result') {
        result = m;
        onMeasureStart.end?.(m.cpuSeconds);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      if (result) resolve(result);
      else reject(new Error(`load generator exited with code ${code} and no result`));
    });
  });
}

class ServerDied extends Error {}

/** Starts a fresh server of one variant: ready, Prometheus answering, one stream validated. */
async function startVariant(variantName, { cpuProfDir, cpuProfName } = {}) {
  const v = VARIANTS[variantName];
  const promPort = v.prometheus ? await freePort() : undefined;
  const nodeArgs = v.nodeArgs();
  if (cpuProfDir) {
    nodeArgs.unshift('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-interval=250');
    if (cpuProfName) nodeArgs.unshift(`--cpu-prof-name=${cpuProfName}`);
  }
  const spawnedAt = performance.now();
  const env = { ...process.env, PORT: '0', BENCH_SSE_SHAPE: SHAPE, BENCH_SSE_FORMAT: FORMAT, ...(MODEL_URL ? { BENCH_MODEL_URL: MODEL_URL } : {}), ...v.env(promPort) };
  if (!v.prometheus) delete env.OTEL_EXPORTER_PROMETHEUS_PORT;
  const server = startServer({ nodeArgs, script: SERVER, env, cwd: ROOT, cpus: SERVER_CPUS });
  const h = {
    name: variantName,
    v,
    server,
    promPort,
    port: undefined,
    scraper: undefined,
    spawnedAt,
    profile: cpuProfDir && cpuProfName ? path.join(cpuProfDir, cpuProfName) : undefined,
  };
  try {
    h.port = await server.ready;
    if (v.prometheus) await waitForMetrics(promPort);
    await validateStream(h.port);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return h;
}

async function stopVariant(h) {
  await h.scraper?.stop();
  await h.server.stop();
}

/**
 * Loads the given (started) variants: one alone for the whole window (sequential mode), or several
 * in turn in short slices (sliced mode). Returns one result per variant.
 */
async function loadVariants(handles, opts) {
  for (const h of handles) if (h.v.prometheus) h.scraper = startScraper(h.promPort);
  // CPU of the servers, the load generator, this process and the whole machine over the window:
  // whatever else the machine did meanwhile is "background", which disturbs the measurement.
  // The chat endpoint's Postgres backends and Redis work for its requests: their CPU is the request's
  // own, not other load (see dependencyCpuSeconds).
  const withDeps = SERVER === SERVERS.chat;
  const snapshot = (loadgenCpuSeconds) => ({
    servers: handles.map((h) => procCpuSeconds(h.server.child.pid)),
    loadgen: loadgenCpuSeconds,
    self: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    deps: withDeps ? cpuByCommand(DEPENDENCY_COMMANDS) : undefined,
    machine: machineBusySeconds(),
    at: performance.now(),
  });
  let first;
  let last;
  const onStart = (loadgenCpu) => {
    first = snapshot(loadgenCpu);
  };
  onStart.end = (loadgenCpu) => {
    last = snapshot(loadgenCpu);
  };
  const load = await runLoad(
    handles.map((h) => h.port),
    opts,
    onStart,
  );
  for (const h of handles) await h.scraper?.stop();
  // A server that died during the window (crash, or killed from outside) invalidates the measurement.
  for (const h of handles) {
    const c = h.server.child;
    const i = handles.indexOf(h);
    if (c.exitCode !== null || c.signalCode !== null || Number.isNaN(first.servers[i]) || Number.isNaN(last.servers[i])) {
      throw new ServerDied(
        `${h.name} server (pid ${c.pid}) exited during the measurement (code ${c.exitCode}, signal ${c.signalCode})\n` +
          `stderr: ${h.server.stderr().slice(-2000)}`,
      );
    }
  }
  const wall = (last.at - first.at) / 1000;
  const serversCpu = handles.map((h, i) => last.servers[i] - first.servers[i]);
  const loadgenCpuSeconds = last.loadgen - first.loadgen;
  const depsCpu = withDeps ? await dependencyCpuSeconds(first.deps, last.deps) : undefined;
  const backgroundCores =
    Math.max(
      0,
      last.machine - first.machine - serversCpu.reduce((a, b) => a + b, 0) - loadgenCpuSeconds - (last.self - first.self) - (depsCpu?.seconds ?? 0),
    ) / wall;
  const windowRequests = load.targets.reduce((n, t) => n + t.requests, 0);
  const results = [];
  for (let i = 0; i < handles.length; i++) {
    const h = handles[i];
    const t = load.targets[i];
    let recorded;
    if (h.v.recorded) {
      const text = (await get(h.promPort, '/metrics')).body;
      recorded = 0;
      for (const m of text.matchAll(h.v.recorded)) recorded += Number(m[1]);
    }
    if (t.errors > 0 || t.non2xx > 0) {
      process.stderr.write(`  warning: ${h.name}: ${t.errors} errors, ${t.non2xx} non-2xx responses\n`);
    }
    results.push({
      variant: h.name,
      rps: t.rps,
      requests: t.requests,
      // Streams completed over the whole run (warm-up, validation request included), to compare with recordedStreams.
      servedStreams: t.total + 1,
      seconds: t.seconds,
      errors: t.errors,
      non2xx: t.non2xx,
      latencyMs: t.latencyMs,
      slices: handles.length > 1 ? t.slices : undefined,
      serverCpuSeconds: serversCpu[i],
      // Sliced mode: CPU over the whole window (its idle slices included) per request it served.
      serverCpuUtilization: serversCpu[i] / wall,
      cpuMicrosPerRequest: (serversCpu[i] * 1e6) / t.requests,
      loadgenCpuUtilization: loadgenCpuSeconds / wall,
      backgroundCores,
      // --endpoint chat: CPU of the servers' Postgres backends and of Redis over the window (all
      // variants' requests together, so per request of the window, not of this variant).
      dependencyCores: depsCpu === undefined ? undefined : depsCpu.seconds / wall,
      dependencyCpuMicrosPerRequest: depsCpu === undefined || windowRequests === 0 ? undefined : (depsCpu.seconds * 1e6) / windowRequests,
      dependencyBackends: depsCpu?.backends,
      scrapes: h.scraper?.stats.scrapes ?? 0,
      scrapeErrors: h.scraper?.stats.errors ?? 0,
      scrapeBytes: h.scraper?.stats.bytes ?? 0,
      recordedStreams: recorded,
      // --cpu-prof: the profile, and where in it the measured window lies (profile-summary --skip-ms/--window-ms).
      profile: h.profile,
      profileSkipMs: h.profile ? Math.round(first.at - h.spawnedAt) : undefined,
      profileWindowMs: h.profile ? Math.round(wall * 1000) : undefined,
    });
  }
  return results;
}

const DEPENDENCY_COMMANDS = ['postgres', 'redis-server'];
const CHAT_APPLICATION_NAME = 'chatpulse-bench-chat';

/**
 * CPU seconds the chat servers' dependencies spent between two cpuByCommand() snapshots: the
 * Postgres backends serving the servers (found by their application_name, set in chat-server.js)
 * and the Redis server. Both do the request's own work (queries, GETs), so the background check
 * leaves them out. Postgres backends of anyone else stay background; Redis is one process shared
 * with any other user of it, so another user's Redis load would be missed (bench/README.md).
 */
async function dependencyCpuSeconds(before, after) {
  let ours = new Set();
  try {
    const { Client } = require('pg');
    const client = new Client({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres' });
    await client.connect();
    try {
      const r = await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [CHAT_APPLICATION_NAME]);
      ours = new Set(r.rows.map((row) => Number(row.pid)));
    } finally {
      await client.end();
    }
  } catch (err) {
    process.stderr.write(`  could not list the chat servers' Postgres backends (${err.message}); their CPU counts as background\n`);
  }
  let seconds = 0;
  let backends = 0;
  for (const [pid, a] of after) {
    const counted = a.comm === 'redis-server' || ours.has(pid);
    if (!counted) continue;
    if (a.comm === 'postgres') backends++;
    // A backend started during the window did all its work inside it.
    seconds += a.seconds - (before.get(pid)?.seconds ?? (a.comm === 'postgres' ? 0 : a.seconds));
  }
  return { seconds, backends };
}

function profiling(variantName, opts, round) {
  if (!opts.cpuProf.includes(variantName)) return {};
  fs.mkdirSync(opts.profileDir, { recursive: true });
  return { cpuProfDir: opts.profileDir, cpuProfName: `${variantName}-round${round + 1}-${process.pid}.cpuprofile` };
}

async function measure(variantName, opts, extra) {
  const h = await startVariant(variantName, extra);
  try {
    return (await loadVariants([h], opts))[0];
  } finally {
    await stopVariant(h);
  }
}

/** Sliced mode: one fresh server per variant, all loaded in turn within one window. */
async function measureSliced(variantNames, opts, round) {
  const handles = [];
  try {
    for (const name of variantNames) handles.push(await startVariant(name, profiling(name, opts, round)));
    const results = await loadVariants(handles, opts);
    const byName = Object.fromEntries(results.map((r) => [r.variant, r]));
    // Per cycle, each variant's slice rate against the baseline's in the same cycle; median over
    // cycles. With the A/A control in the run, the baseline is the mean of the two uninstrumented
    // servers: a fresh process's own speed varies by several percent, and two halve that noise.
    const pool = [byName.uninstrumented, byName['uninstrumented-aa']].filter(Boolean);
    if (pool.length > 0) {
      for (const r of results) {
        const ratios = [];
        for (const s of r.slices) {
          const rates = pool.map((p) => p.slices.find((x) => x.cycle === s.cycle)).filter((b) => b && b.count > 0 && b.ms > 0);
          if (rates.length !== pool.length || !(s.ms > 0)) continue;
          const baseRate = rates.reduce((sum, b) => sum + b.count / b.ms, 0) / rates.length;
          ratios.push(s.count / s.ms / baseRate);
        }
        r.cycleRatioMedian = median(ratios);
      }
    }
    return byName;
  } finally {
    for (const h of handles) await stopVariant(h);
  }
}

/**
 * Other work on the machine (a build, a test run) steals CPU from the server and skews one variant of
 * a round. A measurement during which other processes used more than --max-background cores is
 * repeated, up to --retries times; the quietest attempt is kept, and flagged if still noisy.
 */
async function measureQuietly(variant, opts, round) {
  let best;
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    await waitForQuiet(opts);
    let res;
    try {
      res = await measure(variant, opts, profiling(variant, opts, round));
    } catch (err) {
      if (!(err instanceof ServerDied) || attempt >= opts.retries) throw err;
      process.stderr.write(`  ${err.message.split('\n')[0]}; measuring again\n`);
      continue;
    }
    res.attempts = attempt + 1;
    if (best === undefined || res.backgroundCores < best.backgroundCores) best = res;
    if (res.backgroundCores <= opts.maxBackground) break;
    const again = attempt < opts.retries && budgetLeft();
    process.stderr.write(
      `  ${variant}: other processes used ${f2(res.backgroundCores)} cores during the window` +
        (again ? ', measuring again\n' : ', keeping the quietest attempt\n'),
    );
    if (!again) break;
  }
  best.noisy = best.backgroundCores > opts.maxBackground;
  return best;
}

async function measureSlicedQuietly(variants, opts, round) {
  let best;
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    await waitForQuiet(opts);
    let byName;
    try {
      byName = await measureSliced(variants, opts, round);
    } catch (err) {
      if (!(err instanceof ServerDied) || attempt >= opts.retries) throw err;
      process.stderr.write(`  ${err.message.split('\n')[0]}; measuring the round again\n`);
      continue;
    }
    const bg = byName[variants[0]].backgroundCores;
    if (best === undefined || bg < best.bg) best = { bg, byName };
    if (bg <= opts.maxBackground) break;
    const again = attempt < opts.retries && budgetLeft();
    process.stderr.write(
      `  other processes used ${f2(bg)} cores during the window` +
        (again ? ', measuring the round again\n' : ', keeping the quietest attempt\n'),
    );
    if (!again) break;
  }
  for (const r of Object.values(best.byName)) r.noisy = r.backgroundCores > opts.maxBackground;
  return best.byName;
}

/** Waits (at most --wait-quiet seconds) until the rest of the machine uses at most --max-background cores. */
/**
 * Waiting and retries may use whatever the plain measurements leave of --budget seconds (default
 * 240: a default run stays within ~4 minutes even on a busy machine); past it, measure at once.
 */
const extra = { deadline: Infinity };
function startBudget(opts) {
  const n = opts.variants.length;
  const perRound = opts.mode === 'sliced' ? n * (opts.warmup + opts.duration) + 2 * n : n * (opts.warmup + opts.duration + 2);
  extra.deadline = Date.now() + Math.max(0, opts.budget - opts.rounds * perRound) * 1000;
}
const budgetLeft = () => Date.now() < extra.deadline;

async function waitForQuiet(opts) {
  const until = Math.min(Date.now() + opts.waitQuiet * 1000, extra.deadline);
  let waited = false;
  for (;;) {
    const m0 = machineBusySeconds();
    const s0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(500);
    const s1 = process.cpuUsage(s0);
    const busy = (machineBusySeconds() - m0 - (s1.user + s1.system) / 1e6) / ((performance.now() - t0) / 1000);
    if (busy <= opts.maxBackground) {
      if (waited) process.stderr.write(`  machine quiet again (${f2(busy)} cores busy)\n`);
      return;
    }
    if (Date.now() >= until) {
      process.stderr.write(`  machine still busy (${f2(busy)} cores used by other processes); measuring anyway\n`);
      return;
    }
    if (!waited) process.stderr.write(`  waiting for other processes to quiet down (${f2(busy)} cores busy)…\n`);
    waited = true;
  }
}

// Deterministic when --seed is given, so a run's order can be reproduced.
function makeRandom(seed) {
  if (seed === undefined) return Math.random;
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function shuffle(arr, random) {
  const a = [...arr];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function summarize(rounds, variants) {
  const base = 'uninstrumented';
  const out = {};
  for (const v of variants) {
    const runs = rounds.map((r) => r[v]).filter(Boolean);
    const rps = runs.map((r) => r.rps);
    const cpu = runs.map((r) => r.cpuMicrosPerRequest);
    const s = {
      runs: runs.length,
      rpsMedian: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      cpuMicrosPerRequestMedian: median(cpu),
      serverCpuUtilizationMedian: median(runs.map((r) => r.serverCpuUtilization)),
      p50LatencyMsMedian: median(runs.map((r) => r.latencyMs.p50)),
      p99LatencyMsMedian: median(runs.map((r) => r.latencyMs.p99)),
      errors: runs.reduce((n, r) => n + r.errors + r.non2xx, 0),
      backgroundCoresMedian: median(runs.map((r) => r.backgroundCores)),
      dependencyCpuMicrosPerRequestMedian: runs[0]?.dependencyCpuMicrosPerRequest === undefined ? undefined : median(runs.map((r) => r.dependencyCpuMicrosPerRequest)),
      noisyRuns: runs.filter((r) => r.noisy).length,
    };
    if (variants.includes(base)) {
      const paired = rounds.filter((r) => r[v] && r[base]);
      // Sliced mode: the round's median of per-cycle ratios; sequential: the round's rps ratio.
      const ratios = paired.map((r) => r[v].cycleRatioMedian ?? r[v].rps / r[base].rps);
      const added = paired.map((r) => r[v].cpuMicrosPerRequest - r[base].cpuMicrosPerRequest);
      s.ratioMedian = median(ratios);
      s.ratioMin = Math.min(...ratios);
      s.ratioMax = Math.max(...ratios);
      s.addedCpuMicrosPerStreamMedian = median(added);
      s.addedCpuMicrosPerStreamMin = Math.min(...added);
      s.addedCpuMicrosPerStreamMax = Math.max(...added);
    }
    out[v] = s;
  }
  return out;
}

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '–');

function markdown(summary, variants, opts) {
  const lines = [
    `| variant | median rps | min – max rps | ratio to uninstrumented (median, min – max) | server CPU µs / request | added CPU µs / stream (median, min – max) | server CPU use |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const v of variants) {
    const s = summary[v];
    const isBase = v === 'uninstrumented';
    const ratio = isBase ? '1.000' : s.ratioMedian === undefined ? '–' : `**${f3(s.ratioMedian)}** (${f3(s.ratioMin)} – ${f3(s.ratioMax)})`;
    const added = isBase ? '–' : s.addedCpuMicrosPerStreamMedian === undefined ? '–' : `**${f1(s.addedCpuMicrosPerStreamMedian)}** (${f1(s.addedCpuMicrosPerStreamMin)} – ${f1(s.addedCpuMicrosPerStreamMax)})`;
    lines.push(
      `| ${v} | ${f0(s.rpsMedian)} | ${f0(s.rpsMin)} – ${f0(s.rpsMax)} | ${ratio} | ${f1(s.cpuMicrosPerRequestMedian)} | ${added} | ${f2(s.serverCpuUtilizationMedian)} cores |`,
    );
  }
  const how =
    opts.mode === 'sliced'
      ? `${opts.rounds} rounds; in each, a fresh server per variant, all loaded in turn in ${opts.sliceMs} ms slices ` +
        `(random order per cycle) for ${opts.duration} s each after ${opts.warmup} s of warm-up; ratio = median over rounds of the ` +
        `round's median per-cycle ratio${variants.includes('uninstrumented-aa') ? ' to the mean of the two uninstrumented servers (uninstrumented and its A/A control)' : ''}; CPU per request includes each server's idle slices`
      : `${opts.rounds} interleaved rounds × ${variants.length} variants (shuffled order per round); each a fresh server, ` +
        `${opts.warmup} s warm-up, ${opts.duration} s measured; ratio = median over rounds of the per-round rps ratio`;
  lines.push(
    '',
    `${how}; ${opts.connections} keep-alive connections per server; ${opts.endpoint === 'chat' ? 'one request = a whole chat request (Redis GET, Postgres SELECT and INSERT through a pool, 20 token events one per turn, Redis GET, audio event, done)' : `one request = one SSE stream (10 token events, 1 audio ` +
      `event, done; ${opts.shape === 'burst' ? 'written in two event-loop turns' : 'one event per event-loop turn'}; ${opts.format} wire format)`}; Prometheus endpoints scraped every second. Node ${process.version}, ${require('node:os').cpus().length} cores${SERVER_CPUS !== undefined ? `, servers pinned to CPU ${SERVER_CPUS}, load generator to the others` : ''}.`,
  );
  const noisy = variants.reduce((n, v) => n + summary[v].noisyRuns, 0);
  if (noisy > 0) lines.push(`${noisy} measurement(s) ran with more than ${opts.maxBackground} cores of other load on the machine.`);
  return lines.join('\n');
}

async function profile(opts) {
  const variant = opts.profile;
  if (!VARIANTS[variant]) throw new Error(`--profile: unknown variant ${variant}`);
  fs.mkdirSync(opts.profileDir, { recursive: true });
  const before = new Set(fs.readdirSync(opts.profileDir));
  console.log(`profiling ${variant}: ${opts.warmup} s warm-up + ${opts.duration} s under load, profiles in ${opts.profileDir}`);
  const r = await measure(variant, opts, { cpuProfDir: opts.profileDir });
  const written = fs.readdirSync(opts.profileDir).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
  console.log(`${f0(r.rps)} rps (slowed by the profiler), server CPU ${f1(r.cpuMicrosPerRequest)} µs/request`);
  // The profile covers the server's whole life: start-up, warm-up and the measured window.
  for (const f of written) {
    console.log(`wrote ${path.join(opts.profileDir, f)} (${r.servedStreams} streams served in all)`);
    console.log(`  summarize: node bench/profile-summary.js ${path.join(opts.profileDir, f)} --requests ${r.servedStreams}`);
  }
}

/** Copies dist/ to a private directory (node_modules linked) and runs Chatpulse from there. */
function snapshotDist() {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'chatpulse-bench-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  DIST = path.join(dir, 'dist');
  REGISTER = registerOf(DIST);
}

/** --format model: the model server every variant's endpoint calls (one, uninstrumented, started once). */
let MODEL_URL;

async function startModelServer() {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [path.join(__dirname, 'model-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', () => reject(new Error('bench/model-server.js exited')));
    child.stdout.on('data', (d) => {
      const m = /ready (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
  });
  process.once('exit', () => child.kill());
  return `http://127.0.0.1:${port}/v1`;
}

async function main() {
  installCleanup();
  const opts = parseArgs(process.argv.slice(2));
  SHAPE = opts.shape;
  FORMAT = opts.format;
  SERVER = SERVERS[opts.endpoint];
  if (FORMAT === 'model') MODEL_URL = await startModelServer();
  if (opts.pin) {
    const n = require('node:os').availableParallelism();
    if (n < 2) throw new Error('--pin needs at least 2 CPUs');
    SERVER_CPUS = String(n - 1);
    // The load generator is forked from this process and inherits its affinity.
    pinProcess(process.pid, n === 2 ? '0' : `0-${n - 2}`);
  }
  if (!fs.existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run \`npm run build\` first (npm run bench does)`);
  snapshotDist();
  // Other builds of Chatpulse (e.g. of an earlier commit: git archive <rev> | tar -x -C DIR, link
  // node_modules, tsc -p tsconfig.build.json), to compare before/after a change in one run.
  const refs = opts.refDist ? [{ name: 'chatpulse-ref', dir: opts.refDist }, ...opts.refs] : opts.refs;
  for (const { name, dir } of refs) {
    if (VARIANTS[name]) throw new Error(`--ref ${name}: a variant of that name already exists`);
    const reg = registerOf(dir);
    if (!fs.existsSync(reg)) throw new Error(`--ref ${name}: ${reg} does not exist`);
    VARIANTS[name] = {
      ...VARIANTS.chatpulse,
      label: name,
      command: `node --require ${reg} bench/sse-server.js`,
      nodeArgs: () => ['--require', reg],
    };
    // As the usage says: a --ref adds its variant to the run.
    if (!opts.variants.includes(name)) opts.variants.push(name);
  }
  for (const v of opts.variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}\n${usage()}`);
  if (opts.variants.includes('otel-auto') || opts.profile === 'otel-auto') {
    try {
      require.resolve('@opentelemetry/auto-instrumentations-node/register', { paths: [ROOT] });
    } catch {
      throw new Error('@opentelemetry/auto-instrumentations-node is not installed: run `npm ci` (it is a devDependency)');
    }
  }
  if (opts.profile) return profile(opts);

  const random = makeRandom(opts.seed);
  startBudget(opts);
  const atStart = require('./lib/provenance').provenance(DIST);
  console.log(`code: commit ${atStart.commit}${atStart.instrumentationDirty ? ' + uncommitted instrumentation changes' : ''}, dist ${atStart.distHash} built ${atStart.distBuiltAt}`);
  const rounds = [];
  const t0 = Date.now();
  console.log(
    `throughput of GET ${STREAM_PATH} (${opts.mode} mode): ${opts.rounds} rounds × [${opts.variants.join(', ')}], ` +
      `${opts.warmup} s warm-up + ${opts.duration} s each, ${opts.connections} connections`,
  );
  for (let r = 0; r < opts.rounds; r++) {
    const order = shuffle(opts.variants, random);
    const round = {};
    const results = [];
    if (opts.mode === 'sliced') {
      Object.assign(round, await measureSlicedQuietly(order, opts, r));
      for (const v of order) results.push(round[v]);
    } else {
      for (const v of order) {
        round[v] = await measureQuietly(v, opts, r);
        results.push(round[v]);
      }
    }
    for (const res of results) {
      const rec = res.recordedStreams === undefined ? '' : `, recorded ${res.recordedStreams}/${res.servedStreams} streams`;
      const cyc = res.cycleRatioMedian === undefined ? '' : `  ratio/cycle ${f3(res.cycleRatioMedian)}`;
      console.log(
        `round ${r + 1}/${opts.rounds}  ${res.variant.padEnd(15)} ${f0(res.rps).padStart(7)} rps${cyc}  ` +
          `cpu ${f1(res.cpuMicrosPerRequest)} µs/req (${f2(res.serverCpuUtilization)} cores)  ` +
          `p50 ${f2(res.latencyMs.p50)} ms  p99 ${f2(res.latencyMs.p99)} ms  background ${f2(res.backgroundCores)} cores  ` +
          (res.dependencyCores === undefined ? '' : `postgres+redis ${f2(res.dependencyCores)} cores (${f1(res.dependencyCpuMicrosPerRequest)} µs/req, ${res.dependencyBackends} backends)  `) +
          `scrapes ${res.scrapes}${rec}${res.noisy ? '  [NOISY]' : ''}`,
      );
    }
    rounds.push(round);
  }
  const summary = summarize(rounds, opts.variants);
  const table = markdown(summary, opts.variants, opts);
  console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(table);
  if (opts.cpuProf.length > 0) {
    console.log('\nCPU profiles (summarize the measured window; compare with the uninstrumented server of the same round):');
    rounds.forEach((round) => {
      const base = round.uninstrumented;
      for (const v of opts.cpuProf) {
        const r = round[v];
        if (!r?.profile) continue;
        let cmd = `node bench/profile-summary.js ${path.relative(ROOT, r.profile)} --requests ${r.requests} --skip-ms ${r.profileSkipMs} --window-ms ${r.profileWindowMs}`;
        if (base?.profile && v !== 'uninstrumented') {
          cmd += ` --baseline ${path.relative(ROOT, base.profile)} --baseline-requests ${base.requests} --baseline-skip-ms ${base.profileSkipMs} --baseline-window-ms ${base.profileWindowMs}`;
        }
        console.log(`  ${cmd}`);
      }
    });
  }
  const target = summary.chatpulse?.ratioMedian;
  if (target !== undefined) {
    console.log(`\nchatpulse throughput ratio ${f3(target)} (target ≥ 0.97): ${target >= 0.97 ? 'met' : 'NOT met'}`);
  }
  if (opts.json) {
    const atEnd = require('./lib/provenance').provenance();
    if (atEnd.distHash !== atStart.distHash) {
      process.stderr.write('note: dist/ was rebuilt during the run; the run used its copy taken at the start\n');
    }
    const out = {
      ...atStart,
      distHashAtEnd: atEnd.distHash,
      options: opts,
      // The variants' commands name the stream server; with --endpoint chat they ran bench/chat-server.js.
      commands: Object.fromEntries(
        opts.variants.map((v) => [v, VARIANTS[v].command.replace('bench/sse-server.js', `bench/${path.basename(SERVER)}`).replace('bench/<endpoint>-server.js', `bench/${path.basename(SERVER)}`)]),
      ),
      summary,
      rounds,
      markdown: table,
    };
    fs.writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${opts.json}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
