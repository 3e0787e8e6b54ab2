'use strict';
/**
 * One fleet-mode evaluation against a Prometheus holding --instances instances' series.
 *
 * The series are synthetic but shaped like the hook's (every metric and label the fleet queries
 * read, 24 latency buckets per histogram): --minutes of samples every --step seconds, written as
 * OpenMetrics, turned into a TSDB block with `promtool tsdb create-blocks-from openmetrics`, and
 * served by a real Prometheus started on that data dir. Every instance streams 2/s with its first
 * token at 120 ms, except every 10th, at 2.6 s (so the per-instance grades have something to say).
 *
 * Measured: the wall time of HealthService.evaluate() in fleet mode (all the queries in parallel,
 * the fleet and every instance graded), over --runs evaluations after --warmup; and the queries
 * each evaluation sends, counted at the wire by a proxy in front of Prometheus.
 *
 *   npm run build && node bench/fleet-evaluation.js [--instances 50] [--runs 40] [--warmup 5] [--window 5m] [--json out.json]
 */
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const path = require('node:path');
const { tmpdir, loadavg } = require('node:os');
const { parseArgs } = require('node:util');
const { installCleanup } = require('./lib/procs');
const { provenance } = require('./lib/provenance');

const ROOT = path.resolve(__dirname, '..');
const dist = (p) => require(path.join(ROOT, 'dist', p));
const { PrometheusSignalSource, FLEET_QUERY_COUNT } = dist('src/fleet/prometheus-source.js');
const { PrometheusFleet } = dist('src/fleet/fleet-health.js');
const { HealthService } = dist('src/service/health-service.js');
const { resolveHealthConfig } = dist('src/config/health-config.js');
const { LATENCY_BUCKETS_SECONDS } = dist('instrumentation/metrics/catalog.js');

const SERVICE = 'benchbot';

function options() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '50' },
      runs: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '5' },
      window: { type: 'string', default: '5m' },
      minutes: { type: 'string', default: '15' },
      step: { type: 'string', default: '15' },
      json: { type: 'string' },
    },
  });
  const o = {
    instances: Number(values.instances),
    runs: Number(values.runs),
    warmup: Number(values.warmup),
    window: values.window,
    minutes: Number(values.minutes),
    step: Number(values.step),
    json: values.json,
  };
  if (!(o.instances >= 1) || !(o.runs >= 1) || !(o.warmup >= 0) || !(o.minutes >= 1) || !(o.step >= 1)) throw new Error('bad options (see the header of bench/fleet-evaluation.js)');
  return o;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The OpenMetrics text of every instance's series; samples every `step` s up to `end` (epoch s). */
function openMetrics({ instances, minutes, step, end }) {
  const times = [];
  for (let t = end - minutes * 60; t <= end; t += step) times.push(t);
  const families = new Map(); // name → lines
  const put = (name, labels, valueAt) => {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    const lines = families.get(name) ?? [];
    for (const [i, t] of times.entries()) lines.push(`${name}{${l}} ${valueAt(i * step)} ${t}`);
    families.set(name, lines);
  };
  for (let n = 0; n < instances; n++) {
    const base = { service_name: SERVICE, job: 'fleet', instance: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}:9464` };
    const slow = n % 10 === 9;
    const rate = 2; // streams per second
    const firstToken = slow ? 2.6 : 0.12;
    const histogram = (name, extra, latency) => {
      for (const le of [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']) {
        const inBucket = le === '+Inf' || latency <= Number(le);
        put(`${name}_bucket`, { ...base, ...extra, le }, (s) => (inBucket ? rate * s : 0));
      }
      put(`${name}_count`, { ...base, ...extra }, (s) => rate * s);
      put(`${name}_sum`, { ...base, ...extra }, (s) => rate * s * latency);
    };
    histogram('chatbot_stream_time_to_first_token', { http_route: '/chat' }, firstToken);
    histogram('chatbot_stream_time_to_first_audio', { http_route: '/chat' }, firstToken + 0.3);
    histogram('chatbot_stream_duration', { http_route: '/chat', chatbot_stream_outcome: 'completed' }, firstToken + 1.5);
    for (const [outcome, share] of [['completed', 0.99], ['failed', 0.01], ['aborted', 0]]) put('chatbot_streams_total', { ...base, chatbot_stream_outcome: outcome }, (s) => Math.round(rate * share * s));
    for (const [code, share] of [['200', 0.99], ['500', 0.01]]) put('http_server_request_duration_count', { ...base, http_response_status_code: code }, (s) => Math.round(rate * share * s));
    for (const [cache, result, share] of [['kb', 'hit', 0.7], ['kb', 'miss', 0.3], ['tts', 'hit', 0.6], ['tts', 'miss', 0.4]]) {
      put('chatbot_cache_lookups_total', { ...base, chatbot_cache_name: cache, chatbot_cache_result: result }, (s) => Math.round(rate * share * s));
    }
    put('chatbot_errors_total', { ...base, error_type: 'llm' }, (s) => Math.round(rate * 0.01 * s));
    put('chatbot_streams_active', { ...base, http_route: '/chat' }, () => 3);
    put('process_memory_utilization', base, () => 0.3 + n / 1000);
    put('process_cpu_utilization', base, () => 0.2);
    put('nodejs_eventloop_delay', { ...base, nodejs_eventloop_delay_percentile: 'p99' }, () => 0.012);
  }
  let text = '';
  let series = 0;
  for (const [name, lines] of families) {
    text += `# TYPE ${name} unknown\n${lines.join('\n')}\n`;
    series += lines.length / times.length;
  }
  return { text: `${text}# EOF\n`, series, samples: series * times.length };
}

/** Counts instant queries on their way to Prometheus. */
function countingProxy(targetPort) {
  const counter = { queries: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.on('data', (d) => {
      counter.queries += d.toString('latin1').split('GET /api/v1/query?').length - 1;
      upstream.write(d);
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) s.on('error', () => {}).on('close', () => (client.destroy(), upstream.destroy()));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, counter })));
}

function ready(url, deadline) {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const req = http.get(`${url}/-/ready`, (res) => {
        res.resume();
        if (res.statusCode === 200) return resolve();
        retry();
      });
      req.on('error', retry);
    };
    const retry = () => (Date.now() > deadline ? reject(new Error('Prometheus did not become ready')) : setTimeout(attempt, 100));
    attempt();
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  installCleanup();
  const o = options();
  const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-fleet-bench-'));
  let prometheus;
  try {
    const end = Math.floor(Date.now() / 1000) - 1;
    const t0 = performance.now();
    const om = openMetrics({ instances: o.instances, minutes: o.minutes, step: o.step, end });
    writeFileSync(path.join(dir, 'series.om'), om.text);
    execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'series.om'), path.join(dir, 'data')], { stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`${o.instances} instances: ${om.series} series, ${om.samples} samples, block built in ${Math.round(performance.now() - t0)} ms`);

    const port = await freePort();
    writeFileSync(path.join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    prometheus = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await ready(`http://127.0.0.1:${port}`, Date.now() + 30_000);
    const proxy = await countingProxy(port);

    const config = resolveHealthConfig({ window: o.window, hysteresis: 1 }, {});
    const source = new PrometheusSignalSource({ url: `http://127.0.0.1:${proxy.port}`, service: SERVICE, windowMs: config.windowMs, timeoutMs: 10_000 });
    const fleet = new PrometheusFleet(source);
    const health = new HealthService({ config, signals: fleet, dependencies: fleet, autoEvaluate: false });

    // Sanity: the data is read as generated (else the timing would be of an empty answer).
    await health.evaluate();
    const r = health.report();
    const prom = r.dependencies.find((d) => d.name === 'prometheus');
    if (prom.status !== 'pass') throw new Error(`Prometheus check: ${prom.message}`);
    const slow = r.instances.filter((i) => i.status === 'unhealthy').length;
    if (r.snapshot.instances !== o.instances || r.instances.length !== o.instances || slow !== Math.floor(o.instances / 10)) {
      throw new Error(`read ${r.snapshot.instances} instances (${r.instances.length} graded, ${slow} unhealthy), expected ${o.instances} (${Math.floor(o.instances / 10)})`);
    }

    for (let i = 0; i < o.warmup; i++) await health.evaluate();
    const before = proxy.counter.queries;
    const loadBefore = loadavg()[0];
    const ms = [];
    for (let i = 0; i < o.runs; i++) {
      const t = performance.now();
      await health.evaluate();
      ms.push(performance.now() - t);
    }
    const queries = (proxy.counter.queries - before) / o.runs;
    await health.close();
    proxy.server.close();
    ms.sort((a, b) => a - b);
    const result = {
      instances: o.instances,
      series: om.series,
      window: o.window,
      queriesPerEvaluation: queries,
      fleetQueryCount: FLEET_QUERY_COUNT,
      runs: o.runs,
      evaluationMs: { p50: +pct(ms, 50).toFixed(1), p95: +pct(ms, 95).toFixed(1), max: +ms[ms.length - 1].toFixed(1), mean: +(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1) },
      // Other work on the machine shows here: the 1-minute load average before and after the runs.
      loadAverage1m: [+loadBefore.toFixed(2), +loadavg()[0].toFixed(2)],
      firstTokenIssue: r.kpis.find((k) => k.kpi === 'timeToFirstToken').message ?? null,
      provenance: provenance(),
    };
    console.log(
      `one evaluation (${o.window} window): ${queries} queries; p50 ${result.evaluationMs.p50} ms, p95 ${result.evaluationMs.p95} ms, max ${result.evaluationMs.max} ms over ${o.runs} runs (load average ${result.loadAverage1m.join(' → ')})`,
    );
    console.log(`fleet first token: ${result.firstTokenIssue ?? 'pass'}`);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
