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
 * /proc/<pid>/stat (utime+stime, all threads), so it includes the Prometheus scrapes.
 *
 *   npm run bench                      # builds, then runs this with the defaults
 *   node bench/throughput.js --rounds 5 --duration 5 --warmup 2 --connections 16 --json out.json
 *   node bench/throughput.js --variants chatpulse,uninstrumented --rounds 3
 *   node bench/throughput.js --profile chatpulse --duration 10   # --cpu-prof the server under load
 */
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { installCleanup, startServer, forkTracked, procCpuSeconds, machineBusySeconds } = require('./lib/procs');

const ROOT = path.resolve(__dirname, '..');
const SERVER = path.join(__dirname, 'sse-server.js');
const LOADGEN = path.join(__dirname, 'loadgen.js');
const REGISTER = path.join(ROOT, 'dist', 'instrumentation', 'register.js');
const STREAM_PATH = '/api/chat/stream';

function usage() {
  return `usage: node bench/throughput.js [--rounds N=5] [--duration S=5] [--warmup S=2] [--connections C=16]
                                [--variants uninstrumented,chatpulse,otel-auto] [--json out.json] [--seed N]
                                [--max-background CORES=0.25] [--retries N=1] [--wait-quiet S=20]
                                [--profile chatpulse|otel-auto|uninstrumented [--profile-dir DIR]]`;
}

function parseArgs(argv) {
  const o = {
    rounds: 5,
    duration: 5,
    warmup: 2,
    connections: 16,
    variants: ['uninstrumented', 'chatpulse', 'otel-auto'],
    json: undefined,
    seed: undefined,
    profile: undefined,
    profileDir: path.join(__dirname, 'profiles'),
    maxBackground: 0.25,
    retries: 1,
    waitQuiet: 20,
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
    else if (a === '--profile-dir') o.profileDir = path.resolve(next());
    else if (a === '--help' || a === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${usage()}`);
  }
  if (!(o.warmup >= 0)) throw new Error('--warmup must be >= 0');
  return o;
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
  // Diagnostic splits of chatpulse (not run by default): which half costs what.
  'chatpulse-hooks-only': {
    label: 'chatpulse-hooks-only',
    command: 'OTEL_METRICS_EXPORTER=none node --require ./dist/instrumentation/register.js bench/sse-server.js',
    prometheus: false,
    nodeArgs: () => ['--require', REGISTER],
    env: () => ({ OTEL_METRICS_EXPORTER: 'none' }),
  },
  'chatpulse-export-only': {
    label: 'chatpulse-export-only',
    command:
      'CHATPULSE_INSTRUMENT_HTTP=false CHATPULSE_INSTRUMENT_IOREDIS=false CHATPULSE_INSTRUMENT_PG=false node --require ./dist/instrumentation/register.js bench/sse-server.js',
    prometheus: true,
    nodeArgs: () => ['--require', REGISTER],
    env: (promPort) => ({
      CHATPULSE_INSTRUMENT_HTTP: 'false',
      CHATPULSE_INSTRUMENT_IOREDIS: 'false',
      CHATPULSE_INSTRUMENT_PG: 'false',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort),
    }),
  },
};

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
  const tokens = (r.body.match(/^data: \{"token":/gm) ?? []).length;
  const ok =
    r.status === 200 &&
    String(r.headers['content-type']).startsWith('text/event-stream') &&
    tokens === 10 &&
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

function runLoad(port, opts, onMeasureStart) {
  return new Promise((resolve, reject) => {
    const child = forkTracked(
      LOADGEN,
      ['--port', String(port), '--path', STREAM_PATH, '--connections', String(opts.connections), '--warmup', String(opts.warmup), '--duration', String(opts.duration)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let result;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator did not finish in time'));
    }, (opts.warmup + opts.duration + 30) * 1000);
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

async function measure(variantName, opts, { cpuProfDir } = {}) {
  const v = VARIANTS[variantName];
  const promPort = v.prometheus ? await freePort() : undefined;
  const nodeArgs = v.nodeArgs();
  if (cpuProfDir) nodeArgs.unshift('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-interval=250');
  const env = { ...process.env, PORT: '0', ...v.env(promPort) };
  if (!v.prometheus) delete env.OTEL_EXPORTER_PROMETHEUS_PORT;
  const server = startServer({ nodeArgs, script: SERVER, env, cwd: ROOT });
  const port = await server.ready;
  let scraper;
  try {
    if (v.prometheus) await waitForMetrics(promPort);
    await validateStream(port);
    if (v.prometheus) scraper = startScraper(promPort);
    const pid = server.child.pid;
    // CPU of the server, the load generator, this process and the whole machine over the window:
    // whatever else the machine did meanwhile is "background", which disturbs the measurement.
    const snapshot = (loadgenCpuSeconds) => ({
      server: procCpuSeconds(pid),
      loadgen: loadgenCpuSeconds,
      self: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      machine: machineBusySeconds(),
    });
    let first;
    let last;
    const onStart = (loadgenCpu) => {
      first = snapshot(loadgenCpu);
    };
    onStart.end = (loadgenCpu) => {
      last = snapshot(loadgenCpu);
    };
    const load = await runLoad(port, opts, onStart);
    await scraper?.stop();
    let recorded;
    if (v.recorded) {
      const text = (await get(promPort, '/metrics')).body;
      recorded = 0;
      for (const m of text.matchAll(v.recorded)) recorded += Number(m[1]);
    }
    const cpuSeconds = last.server - first.server;
    const loadgenCpuSeconds = last.loadgen - first.loadgen;
    const backgroundCores =
      Math.max(0, last.machine - first.machine - cpuSeconds - loadgenCpuSeconds - (last.self - first.self)) / load.seconds;
    if (load.errors > 0 || load.non2xx > 0) {
      process.stderr.write(`  warning: ${variantName}: ${load.errors} errors, ${load.non2xx} non-2xx responses\n`);
    }
    return {
      variant: variantName,
      rps: load.rps,
      requests: load.requests,
      // Streams completed over the whole run (warm-up, validation request included), to compare with recordedStreams.
      servedStreams: load.total + 1,
      seconds: load.seconds,
      errors: load.errors,
      non2xx: load.non2xx,
      latencyMs: load.latencyMs,
      serverCpuSeconds: cpuSeconds,
      serverCpuUtilization: cpuSeconds / load.seconds,
      loadgenCpuUtilization: loadgenCpuSeconds / load.seconds,
      backgroundCores,
      cpuMicrosPerRequest: (cpuSeconds * 1e6) / load.requests,
      scrapes: scraper?.stats.scrapes ?? 0,
      scrapeErrors: scraper?.stats.errors ?? 0,
      scrapeBytes: scraper?.stats.bytes ?? 0,
      recordedStreams: recorded,
    };
  } finally {
    await scraper?.stop();
    await server.stop();
  }
}

/**
 * Other work on the machine (a build, a test run) steals CPU from the server and skews one variant of
 * a round. A measurement during which other processes used more than --max-background cores is
 * repeated, up to --retries times; the quietest attempt is kept, and flagged if still noisy.
 */
async function measureQuietly(variant, opts) {
  let best;
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    await waitForQuiet(opts);
    const res = await measure(variant, opts);
    res.attempts = attempt + 1;
    if (best === undefined || res.backgroundCores < best.backgroundCores) best = res;
    if (res.backgroundCores <= opts.maxBackground) break;
    process.stderr.write(
      `  ${variant}: other processes used ${f2(res.backgroundCores)} cores during the window` +
        (attempt < opts.retries ? ', measuring again\n' : ', keeping the quietest attempt\n'),
    );
  }
  best.noisy = best.backgroundCores > opts.maxBackground;
  return best;
}

/** Waits (at most --wait-quiet seconds) until the rest of the machine uses at most --max-background cores. */
async function waitForQuiet(opts) {
  const until = Date.now() + opts.waitQuiet * 1000;
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

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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
      noisyRuns: runs.filter((r) => r.noisy).length,
    };
    if (variants.includes(base)) {
      const paired = rounds.filter((r) => r[v] && r[base]);
      const ratios = paired.map((r) => r[v].rps / r[base].rps);
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
  lines.push(
    '',
    `${opts.rounds} interleaved rounds × ${variants.length} variants; each a fresh server, ${opts.warmup} s warm-up, ${opts.duration} s measured, ` +
      `${opts.connections} keep-alive connections; one request = one SSE stream (10 token events, 1 audio event, done). ` +
      `Node ${process.version}, ${require('node:os').availableParallelism()} cores.`,
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

async function main() {
  installCleanup();
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run \`npm run build\` first (npm run bench does)`);
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
  const rounds = [];
  const t0 = Date.now();
  console.log(
    `throughput of GET ${STREAM_PATH}: ${opts.rounds} rounds × [${opts.variants.join(', ')}], ` +
      `${opts.warmup} s warm-up + ${opts.duration} s each, ${opts.connections} connections`,
  );
  for (let r = 0; r < opts.rounds; r++) {
    const order = shuffle(opts.variants, random);
    const round = {};
    for (const v of order) {
      const res = await measureQuietly(v, opts);
      round[v] = res;
      const rec = res.recordedStreams === undefined ? '' : `, recorded ${res.recordedStreams}/${res.servedStreams} streams`;
      console.log(
        `round ${r + 1}/${opts.rounds}  ${v.padEnd(15)} ${f0(res.rps).padStart(7)} rps  ` +
          `cpu ${f1(res.cpuMicrosPerRequest)} µs/req (${f2(res.serverCpuUtilization)} cores)  ` +
          `p50 ${f2(res.latencyMs.p50)} ms  p99 ${f2(res.latencyMs.p99)} ms  background ${f2(res.backgroundCores)} cores  ` +
          `scrapes ${res.scrapes}${rec}${res.noisy ? '  [NOISY]' : ''}`,
      );
    }
    rounds.push(round);
  }
  const summary = summarize(rounds, opts.variants);
  const table = markdown(summary, opts.variants, opts);
  console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  console.log(table);
  const target = summary.chatpulse?.ratioMedian;
  if (target !== undefined) {
    console.log(`\nchatpulse throughput ratio ${f3(target)} (target ≥ 0.97): ${target >= 0.97 ? 'met' : 'NOT met'}`);
  }
  if (opts.json) {
    const out = {
      date: new Date().toISOString(),
      node: process.version,
      cores: require('node:os').availableParallelism(),
      cpuModel: require('node:os').cpus()[0]?.model,
      options: opts,
      commands: Object.fromEntries(opts.variants.map((v) => [v, VARIANTS[v].command])),
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
