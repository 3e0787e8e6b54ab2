/**
 * Fleet mode end to end: a REAL Prometheus (Debian's binary, temp data dir) scrapes two instances
 * of test/fixtures/fleet-app.js running under `--require dist/instrumentation/register.js`, and
 * PrometheusSignalSource (then `chatpulse serve`) grades them together.
 *
 *   instance A: 30 streams, first token after 100 ms, none fail, kb cache 8 hits / 2 misses
 *   instance B: 30 streams, first token after 600 ms, 10 % fail (3, answered 500 with an `llm`
 *               error event), kb cache 4 hits / 6 misses
 *
 * Why the counts come out exact. increase() measures from a series' first sample in the window
 * and extrapolates: (1) back toward the window start — not at all when the first sample is 0,
 * and only half a scrape interval when it is far from 0 relative to the growth; (2) forward to
 * the query time — at most one scrape interval. So before the measured traffic every counter
 * series is made to exist and is scraped ("primed": a manual stream ended `aborted`, one /ping,
 * one /boom, one kb hit and miss, one llm error per instance); the primed values are the
 * baseline and are not counted. What remains inflates a count by at most
 * count × (interval + interval / 2) / S, S = time since the priming scrape: for the 60 requests
 * with a 100 ms scrape interval that is under the 0.5 rounding absorbs once S ≥ 20 s (with the
 * usual 1 s interval it would take over 3 minutes). So the test waits until 20 s after priming,
 * then polls until the rounded snapshot has the exact numbers (it does at once), and asserts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_QUERY_COUNT, fleetQueries, PrometheusQueryError, PrometheusSignalSource, roundCount } from '../../../src/fleet/prometheus-source';
import { PrometheusFleet } from '../../../src/fleet/fleet-health';
import { gradeKpis } from '../../../src/grading/grade';
import { DEFAULT_THRESHOLDS } from '../../../src/grading/kpis';
import type { SignalSnapshot } from '../../../src/signals/snapshot';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, sleep, spawnApp, type AppChild } from '../../fixtures/harness';
import { CLI, REPO, ensureBuilt, runCli } from '../cli/cli-helpers';

const SERVICE = 'fleet-test';
const SCRAPE_INTERVAL = '100ms';
/** See above: from then on increase() rounds to the exact count. */
const SETTLE_MS = 20_000;

interface Instance {
  readonly app: AppChild;
  readonly metricsPort: number;
  readonly appPort: number;
  readonly controlPort: number;
}

let tmp: string;
let prometheus: ChildProcess | undefined;
let prometheusLog = '';
let promUrl: string;
let a: Instance;
let b: Instance;
/** When Prometheus had scraped the primed series. */
let primedAt = 0;

async function startInstance(metricsPort: number, env: Record<string, string>): Promise<Instance> {
  const app = await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: path.join(FIXTURES, 'fleet-app.js'),
    env: {
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
  });
  const m = /LISTENING (\d+) CONTROL (\d+)/.exec(app.stdout())!;
  return { app, metricsPort, appPort: Number(m[1]), controlPort: Number(m[2]) };
}

async function promQuery(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await get(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = JSON.parse(r.body) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${r.body}`);
  return body.data.result;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nPrometheus log:\n${prometheusLog.slice(-3000)}`);
    await sleep(100);
  }
}

async function chat(inst: Instance, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => get(`http://127.0.0.1:${inst.appPort}/chat`, 10_000).then((r) => r.status)));
}

beforeAll(async () => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'chatpulse-fleet-'));
  const [promPort, metricsA, metricsB] = [await freePort(), await freePort(), await freePort()];
  promUrl = `http://127.0.0.1:${promPort}`;
  writeFileSync(
    path.join(tmp, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${SCRAPE_INTERVAL}`,
      `  scrape_timeout: ${SCRAPE_INTERVAL}`,
      'scrape_configs:',
      '  - job_name: fleet',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${metricsA}', '127.0.0.1:${metricsB}']`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout!.setEncoding('utf8').on('data', (d: string) => (prometheusLog += d));
  prometheus.stderr!.setEncoding('utf8').on('data', (d: string) => (prometheusLog += d));
  const spawnError = new Promise<never>((_, reject) =>
    prometheus!.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ENOENT' ? 'the prometheus binary is not installed: run bash .ci/install-ops.sh' : err.message)),
    ),
  );

  [a, b] = await Promise.all([
    startInstance(metricsA, { FIRST_TOKEN_MS: '100', FAIL_RATIO: '0' }),
    startInstance(metricsB, { FIRST_TOKEN_MS: '600', FAIL_RATIO: '0.1' }),
  ]);
  await Promise.race([spawnError, waitFor('Prometheus ready', 20_000, async () => (await get(`${promUrl}/-/ready`, 1000)).status === 200)]);

  // Prime every counter series on both instances, and wait until Prometheus has scraped them.
  for (const inst of [a, b]) {
    expect((await get(`http://127.0.0.1:${inst.controlPort}/prime`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${inst.appPort}/ping`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${inst.appPort}/boom`)).status).toBe(500);
  }
  const primed = `count({service_name="${SERVICE}", __name__=~"chatbot_streams_total|chatbot_cache_lookups_total|chatbot_errors_total|http_server_request_duration_count"})`;
  // Per instance: 3 stream outcomes + kb hit/miss + errors http/llm + requests 200/500 = 9.
  await waitFor('the primed series of both instances in Prometheus', 15_000, async () => Number((await promQuery(primed))[0]?.value[1]) === 18);
  primedAt = Date.now();
  await sleep(300); // a few more scrapes of the primed values

  // The measured traffic.
  const [statusesA, statusesB] = await Promise.all([chat(a, 30), chat(b, 30)]);
  expect(statusesA.filter((s) => s === 200)).toHaveLength(30);
  expect(statusesB.filter((s) => s === 500)).toHaveLength(3);
  expect((await get(`http://127.0.0.1:${a.controlPort}/cache?name=kb&hits=8&misses=2`)).status).toBe(200);
  expect((await get(`http://127.0.0.1:${b.controlPort}/cache?name=kb&hits=4&misses=6`)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await killAllChildren();
  if (prometheus !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await Promise.race([exited, sleep(3000).then(() => prometheus!.kill('SIGKILL'))]);
  }
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

const EXPECTED = {
  instances: 2,
  streams: { completed: 57, failed: 3, aborted: 0 },
  requests: { total: 60, serverErrors: 3 },
  caches: { kb: { hits: 12, misses: 8 } },
  errors: { llm: 3 },
};

function settled(s: SignalSnapshot): boolean {
  return (
    s.instances === EXPECTED.instances &&
    s.streams.completed === 57 &&
    s.streams.failed === 3 &&
    s.streams.aborted === 0 &&
    s.requests.total === 60 &&
    s.requests.serverErrors === 3 &&
    s.caches.kb?.hits === 12 &&
    s.caches.kb?.misses === 8 &&
    s.errors.llm === 3 &&
    s.timeToFirstToken.count === 57 &&
    s.completeResponse.count === 57
  );
}

describe('fleet mode against a real Prometheus scraping two instances', () => {
  it('sums both instances: counts, streams by outcome, caches, errors; merged-histogram percentiles', async () => {
    const source = new PrometheusSignalSource({ url: promUrl, service: SERVICE, windowMs: 300_000, timeoutMs: 5000 });
    await sleep(primedAt + SETTLE_MS - Date.now());
    let s = await source.snapshot();
    const deadline = Date.now() + 15_000;
    while (!settled(s) && Date.now() < deadline) {
      await sleep(250);
      s = await source.snapshot();
    }
    source.close();

    expect(s.windowSeconds).toBe(300);
    expect(s.instances).toBe(2);
    expect(s.streams).toEqual(EXPECTED.streams);
    expect(s.requests).toEqual(EXPECTED.requests);
    expect(s.caches).toEqual(EXPECTED.caches);
    expect(s.errors).toEqual(EXPECTED.errors);
    expect(s.activeStreams).toBe(0);
    expect(s.activeStreamsBusiestInstance).toBe(0);
    // The KPI ratios, defined as in alerts/rules: completed / (completed + failed), 5xx / all, hits / lookups.
    expect(s.streams.completed / (s.streams.completed + s.streams.failed)).toBe(0.95);
    expect(s.requests.serverErrors / s.requests.total).toBe(0.05);
    expect(s.caches.kb!.hits / (s.caches.kb!.hits + s.caches.kb!.misses)).toBe(0.6);

    // Time to first token: A's 30 samples just over 100 ms (bucket 0.1–0.25 s), B's 27 just over
    // 600 ms (bucket 0.5–0.75 s; B's 3 failed streams sent an error event, not a token).
    // histogram_quantile interpolates linearly inside the bucket holding the rank, so a percentile
    // is only known to its bucket: p50 (rank 28.5 of 57) lies between the modes; p95 (rank 54.15)
    // lies in the 0.5–0.75 s bucket, i.e. 600 ms ± 150 ms, and interpolates to
    // 0.5 + 0.25 × (54.15 − 30) / 27 = 0.7236 s (± 0.02 s for the two instances' slightly
    // different extrapolation).
    const t = s.timeToFirstToken;
    expect(t.count).toBe(57);
    expect(t.p50!).toBeGreaterThan(0.1);
    expect(t.p50!).toBeLessThan(0.6);
    expect(t.p95!).toBeGreaterThan(0.5);
    expect(t.p95!).toBeLessThanOrEqual(0.75);
    expect(Math.abs(t.p95! - 0.7236)).toBeLessThan(0.02);
    expect(t.p99!).toBeGreaterThanOrEqual(t.p95!);
    expect(t.p99!).toBeLessThanOrEqual(0.75);

    // Complete responses: completed streams only (27 of B's at ~600 ms, 30 of A's at ~100 ms).
    const c = s.completeResponse;
    expect(c.count).toBe(57);
    expect(c.p95!).toBeGreaterThan(0.5);
    expect(c.p95!).toBeLessThanOrEqual(0.75);
    // No audio: a count of 0 and no NaN percentiles.
    expect(s.timeToFirstAudio).toEqual({ count: 0 });

    // Process gauges: the worst instance, real utilisations.
    expect(s.process).toBeDefined();
    expect(s.process!.memoryUtilization).toBeGreaterThan(0);
    expect(s.process!.memoryUtilization).toBeLessThan(1);
    expect(s.process!.cpuUtilization).toBeGreaterThanOrEqual(0);
    expect(s.process!.eventLoopDelayP99).toBeGreaterThan(0);
    expect(JSON.stringify(s)).not.toMatch(/NaN|null/);

    // The worst instance: the max over both, as Prometheus stores them.
    const perInstance = await promQuery(`process_memory_utilization{service_name="${SERVICE}"}`);
    expect(perInstance).toHaveLength(2);
    expect(s.process!.memoryUtilization).toBeGreaterThanOrEqual(Math.min(...perInstance.map((r) => Number(r.value[1]))));

    // Each instance on its own, from the same queries grouped by (job, instance).
    expect(s.perInstance!.map((i) => i.id).sort()).toEqual([`127.0.0.1:${a.metricsPort}`, `127.0.0.1:${b.metricsPort}`].sort());
    const ia = s.perInstance!.find((i) => i.id === `127.0.0.1:${a.metricsPort}`)!.snapshot;
    const ib = s.perInstance!.find((i) => i.id === `127.0.0.1:${b.metricsPort}`)!.snapshot;
    expect(s.perInstance!.every((i) => i.reporting && i.job === 'fleet')).toBe(true);
    expect([ia.streams, ib.streams]).toEqual([{ completed: 30, failed: 0, aborted: 0 }, { completed: 27, failed: 3, aborted: 0 }]);
    expect([ia.requests, ib.requests]).toEqual([{ total: 30, serverErrors: 0 }, { total: 30, serverErrors: 3 }]);
    expect([ia.caches, ib.caches]).toEqual([{ kb: { hits: 8, misses: 2 } }, { kb: { hits: 4, misses: 6 } }]);
    expect([ia.instances, ib.instances]).toEqual([1, 1]);
    // All of an instance's samples sit in one bucket: its p95 is the lower edge + 0.95 × the
    // bucket's width (A: 0.1–0.25 s, B: 0.5–0.75 s), to within what rate()'s extrapolation at the
    // window's edges moves between bucket series (seen in CI: 0.24224 for 0.2425).
    expect(ia.timeToFirstToken.count).toBe(30);
    expect(ia.timeToFirstToken.p95!).toBeCloseTo(0.1 + 0.15 * 0.95, 2);
    expect(ib.timeToFirstToken.count).toBe(27);
    expect(ib.timeToFirstToken.p95!).toBeCloseTo(0.5 + 0.25 * 0.95, 2);
    expect(ia.process!.memoryUtilization).toBeGreaterThan(0);
    expect(Math.max(ia.process!.memoryUtilization, ib.process!.memoryUtilization)).toBe(s.process!.memoryUtilization);
  });

  it('service filter: another service_name sees nothing (0 instances, empty window, no NaN)', async () => {
    const source = new PrometheusSignalSource({ url: promUrl, service: 'no-such-service', windowMs: 60_000, timeoutMs: 5000 });
    const s = await source.snapshot();
    source.close();
    expect(s).toEqual({
      windowSeconds: 60,
      timeToFirstToken: { count: 0 },
      timeToFirstAudio: { count: 0 },
      completeResponse: { count: 0 },
      streams: { completed: 0, failed: 0, aborted: 0 },
      requests: { total: 0, serverErrors: 0 },
      caches: {},
      errors: {},
      activeStreams: 0,
      activeStreamsBusiestInstance: 0,
      process: undefined,
      instances: 0,
      perInstance: [],
    });
    // And PrometheusFleet turns that into a failing required check.
    const fleet = new PrometheusFleet(new PrometheusSignalSource({ url: promUrl, service: 'no-such-service', windowMs: 60_000, timeoutMs: 5000 }));
    await fleet.snapshot();
    fleet.close();
    expect(fleet.results().find((r) => r.name === 'instances')).toMatchObject({ status: 'fail', required: true, value: 0 });
    expect(fleet.results().find((r) => r.name === 'prometheus')).toMatchObject({ status: 'pass' });
  });

  it('chatpulse serve grades the fleet: /api/v1/health degraded, /api/metrics/streaming with both instances\' totals', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--prometheus-url', promUrl, '--service', SERVICE, '--port', '0', '--host', '127.0.0.1', '--window', '5m'],
      { cwd: REPO, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('chatpulse serve to listen', 10_000, async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+) \(fleet service_name="fleet-test" from Prometheus (\S+), window 5m\)/.exec(out);
      expect(m, `stdout:\n${out}\nstderr:\n${err}`).not.toBeNull();
      const base = m![1]!;
      expect(m![2]).toBe(promUrl);

      const health = await get(`${base}/api/v1/health`);
      expect(health.status).toBe(200);
      const h = JSON.parse(health.body) as { status: string; issues: string[]; services: Record<string, { status: string; checks: Record<string, { status: string; value: unknown }> }> };
      // 95 % stream success (warn < 98 %) and 5 % errors (warn > 2 %) degrade; nothing fails.
      expect(h.status).toBe('degraded');
      expect(h.services.streaming!.checks.streamSuccessRate).toMatchObject({ status: 'warn' });
      expect(h.services.streaming!.checks.errorRate).toMatchObject({ status: 'warn' });
      expect(h.services.streaming!.checks.kbCacheHitRate).toMatchObject({ status: 'pass' });
      expect(h.services.streaming!.checks.timeToFirstToken).toMatchObject({ status: 'pass' });
      expect(h.services.integrations!.checks.prometheus).toMatchObject({ status: 'pass' });
      expect(h.services.system!.checks.instances).toMatchObject({ status: 'pass', value: '2' });
      expect(h.issues.map((i) => i.split(':')[0]).sort()).toEqual(['errorRate', 'streamSuccessRate']);

      const metrics = JSON.parse((await get(`${base}/api/metrics/streaming`)).body) as { metrics: Record<string, Record<string, unknown>> };
      expect(metrics.metrics.requests).toMatchObject({ total: 60, failed: 3, successful: 57 });
      expect(metrics.metrics.streaming).toEqual({ totalStreams: 60, activeCount: 0, completedCount: 57, errorCount: 3, abortedCount: 0 });
      expect(metrics.metrics.cache).toEqual({ kb: { hits: 12, misses: 8, hitRate: '60%' } });
      expect((metrics.metrics.latency as { firstToken: { count: number; p95: number } }).firstToken).toMatchObject({ count: 57 });
      expect(metrics.metrics.errors).toMatchObject({ llm: 3 });

      // probe agrees: degraded → exit 1, issues on the line.
      const p = await runCli(['probe', base]);
      expect(p.code).toBe(1);
      expect(p.stdout).toMatch(/^degraded  http:\/\/127\.0\.0\.1:\d+\/api\/v1\/health  \(\d+ ms\)  issues: /);

      child.kill('SIGTERM');
      expect(await Promise.race([exited, sleep(5000).then(() => 'still running')])).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('PrometheusSignalSource failures name the URL and leak no NaN', () => {
  /** A stand-in for Prometheus: answers /api/v1/query with `handler`. */
  async function fakePrometheus(handler: (query: string, res: http.ServerResponse, req: http.IncomingMessage) => void): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname !== '/api/v1/query') return void res.writeHead(404).end('404 page not found');
      handler(u.searchParams.get('query') ?? '', res, req);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        server.closeAllConnections();
        return new Promise((r) => server.close(() => r()));
      },
    };
  }
  const vector = (value: string, metric: Record<string, string> = {}) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric, value: [1, value] }] } });

  it('active streams: the fleet total is reported, the busiest instance (routes summed) is graded against the per-process thresholds', async () => {
    // A holds 3 streams on two routes, B holds 2: a total of 5, the busiest instance 3.
    expect((await get(`http://127.0.0.1:${a.controlPort}/hold?n=2&route=/ws/chat`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${a.controlPort}/hold?n=1&route=/grpc/chat`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${b.controlPort}/hold?n=2&route=/ws/chat`)).status).toBe(200);
    const source = new PrometheusSignalSource({ url: promUrl, service: SERVICE, windowMs: 60_000, timeoutMs: 5000 });
    try {
      let s = await source.snapshot();
      await waitFor("both instances' held streams scraped", 10_000, async () => (s = await source.snapshot()).activeStreams === 5);
      expect(s.activeStreamsBusiestInstance).toBe(3);
      // Thresholds under which the total (5) would fail while the busiest instance (3) warns.
      const thresholds = { ...DEFAULT_THRESHOLDS, activeStreams: { target: 1, warn: 2, fail: 4 } };
      const kpi = gradeKpis(s, { thresholds, minSamples: 1 }).find((k) => k.kpi === 'activeStreams');
      expect(kpi).toMatchObject({ status: 'warn', value: 3 });
    } finally {
      source.close();
      await get(`http://127.0.0.1:${a.controlPort}/release`);
      await get(`http://127.0.0.1:${b.controlPort}/release`);
    }
  });

  it("the model calls: the upstream KPIs graded per provider and model from the fleet's series", async () => {
    const empty = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });
    const vectorOf = (rows: [Record<string, string>, string][]) =>
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result: rows.map(([metric, v]) => ({ metric, value: [1, v] })) } });
    const gpt = { gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-4o-mini' };
    const claude = { gen_ai_provider_name: 'anthropic', gen_ai_request_model: 'claude-sonnet-4-5' };
    const q = fleetQueries('bot', 60).upstreams;
    const answers = new Map<string, string>([
      // increase() extrapolates: 40.2 calls are 40; errors never exceed calls.
      [q.calls, vectorOf([[gpt, '40.2'], [claude, '40']])],
      [q.errors, vectorOf([[gpt, '0'], [claude, '3']])],
      [q.firstChunks, vectorOf([[gpt, '39.8'], [claude, '37']])],
      [q.firstChunkP95, vectorOf([[gpt, '0.4'], [claude, '1.9']])],
      [q.firstChunkP50, vectorOf([[gpt, '0.2'], [claude, 'NaN']])],
    ]);
    const fake = await fakePrometheus((query, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answers.get(query) ?? empty));
    const source = new PrometheusSignalSource({ url: fake.url, service: 'bot', windowMs: 60_000, timeoutMs: 5000 });
    try {
      const s = await source.snapshot();
      expect(s.upstreams).toEqual([
        { provider: 'openai', model: 'gpt-4o-mini', calls: 40, errors: 0, firstChunks: 40, firstChunkP95: 0.4, firstChunkP50: 0.2 },
        { provider: 'anthropic', model: 'claude-sonnet-4-5', calls: 40, errors: 3, firstChunks: 37, firstChunkP95: 1.9, firstChunkP50: undefined },
      ]);
      const kpis = gradeKpis(s, { thresholds: DEFAULT_THRESHOLDS, minSamples: 20 });
      expect(kpis.find((k) => k.kpi === 'upstreamTimeToFirstChunk')).toMatchObject({ status: 'warn', subject: 'anthropic/claude-sonnet-4-5', value: 1.9 });
      expect(kpis.find((k) => k.kpi === 'upstreamErrorRate')).toMatchObject({ status: 'fail', subject: 'anthropic/claude-sonnet-4-5', value: 0.075 });
    } finally {
      source.close();
      await fake.close();
    }
  });

  it('Prometheus down: rejects naming the URL and the connection error', async () => {
    const port = await freePort();
    const source = new PrometheusSignalSource({ url: `http://127.0.0.1:${port}`, windowMs: 60_000, timeoutMs: 2000 });
    const err = await source.snapshot().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusQueryError);
    expect((err as Error).message).toBe(`Prometheus at http://127.0.0.1:${port} is unreachable: ECONNREFUSED`);
  });

  it('timeout: rejects after timeoutMs naming the URL', async () => {
    const fake = await fakePrometheus(() => undefined); // never answers
    try {
      const source = new PrometheusSignalSource({ url: fake.url, windowMs: 60_000, timeoutMs: 300 });
      const started = performance.now();
      const err = await source.snapshot().then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).toBe(`Prometheus at ${fake.url} did not answer within 300 ms`);
      expect(performance.now() - started).toBeLessThan(2000);
      source.close();
    } finally {
      await fake.close();
    }
  });

  it('not Prometheus (HTML), Prometheus errors (bad_data), wrong result type: clear messages', async () => {
    const html = await fakePrometheus((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Grafana</html>'));
    const bad = await fakePrometheus((_q, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: '1:1: parse error' })),
    );
    const matrix = await fakePrometheus((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })));
    try {
      const msg = (url: string) => new PrometheusSignalSource({ url, windowMs: 60_000, timeoutMs: 2000 }).snapshot().then(() => '', (e: Error) => e.message);
      expect(await msg(html.url)).toBe(`Prometheus at ${html.url} answered HTTP 200 with a non-JSON body (text/html): is this the Prometheus base URL?`);
      expect(await msg(bad.url)).toMatch(new RegExp(`^Prometheus at ${bad.url.replace(/[.]/g, '\\.')} answered HTTP 400: bad_data: 1:1: parse error \\(query: `));
      expect(await msg(matrix.url)).toMatch(/returned matrix where a vector was expected/);
    } finally {
      await Promise.all([html.close(), bad.close(), matrix.close()]);
    }
  });

  it('NaN, +Inf and fractional increases: rounded counts, no NaN percentiles; credentials become Basic auth and stay out of messages', async () => {
    let authorization: string | undefined;
    let withCreds = '';
    const fake = await fakePrometheus((q, res, req) => {
      authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (q.startsWith('histogram_quantile')) return void res.end(vector('NaN'));
      if (q.includes('_count')) return void res.end(vector(q.includes('first_token') ? '57.4999' : '0'));
      if (q.startsWith('sum by (job, instance, chatbot_stream_outcome)')) {
        return void res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { chatbot_stream_outcome: 'completed' }, value: [1, '56.51'] }, { metric: { chatbot_stream_outcome: 'failed' }, value: [1, 'NaN'] }] } }));
      }
      if (q.startsWith('sum by (job, instance, chatbot_cache_name')) {
        return void res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { chatbot_cache_name: 'tts', chatbot_cache_result: 'hit' }, value: [1, '0.2'] }] } }));
      }
      if (q.startsWith('max by (job, instance) (process_memory')) return void res.end(vector('0.42'));
      if (q.startsWith('max by (job, instance) (nodejs_eventloop')) return void res.end(vector('+Inf'));
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    });
    try {
      withCreds = fake.url.replace('http://', 'http://ops:p%40ss@');
      const source = new PrometheusSignalSource({ url: withCreds, windowMs: 60_000, timeoutMs: 2000 });
      expect(source.url).toBe(fake.url);
      const s = await source.snapshot();
      source.close();
      expect(s.timeToFirstToken).toEqual({ count: 57 }); // NaN quantiles dropped, 57.4999 rounded
      expect(s.completeResponse).toEqual({ count: 0 });
      expect(s.streams).toEqual({ completed: 57, failed: 0, aborted: 0 });
      expect(s.caches).toEqual({}); // 0.2 lookups round to none
      // No CPU series and a non-finite loop delay read as 0, never NaN.
      expect(s.process).toEqual({ memoryUtilization: 0.42, cpuUtilization: 0, eventLoopDelayP99: 0 });
      expect(JSON.stringify(s)).not.toMatch(/NaN|null/);
      expect(authorization).toBe(`Basic ${Buffer.from('ops:p@ss').toString('base64')}`);
      // An error names the URL without the password.
      await fake.close();
      const err = await new PrometheusSignalSource({ url: withCreds, windowMs: 60_000, timeoutMs: 2000 }).snapshot().then(() => undefined, (e: Error) => e);
      expect(err?.message).toContain(`Prometheus at ${fake.url} is unreachable`);
      expect(err?.message).not.toContain('p%40ss');
    } finally {
      await fake.close();
    }
  });

  it('the PromQL: service selector escaped, window in seconds, KPIs as the recording rules define them', () => {
    const q = fleetQueries('chat"bot', 300);
    expect(q.streams).toBe('sum by (job, instance, chatbot_stream_outcome) (increase(chatbot_streams_total{service_name="chat\\"bot"}[300s]))');
    expect(q.requestsServerErrors).toBe('sum by (job, instance) (increase(http_server_request_duration_count{service_name="chat\\"bot", http_response_status_code=~"5.."}[300s]))');
    // The fleet's percentiles from the merged histogram; each instance's p95 from its own, in one query.
    expect(q.timeToFirstToken.p95).toBe('histogram_quantile(0.95, sum by (le) (rate(chatbot_stream_time_to_first_token_bucket{service_name="chat\\"bot"}[300s])))');
    expect(q.timeToFirstToken.p95ByInstance).toBe('histogram_quantile(0.95, sum by (job, instance, le) (rate(chatbot_stream_time_to_first_token_bucket{service_name="chat\\"bot"}[300s])))');
    expect(q.completeResponse.count).toBe('sum by (job, instance) (increase(chatbot_stream_duration_count{service_name="chat\\"bot", chatbot_stream_outcome="completed"}[300s]))');
    expect(q.memoryUtilization).toBe('max by (job, instance) (process_memory_utilization{service_name="chat\\"bot"})');
    expect(q.seen).toBe('group by (job, instance) (last_over_time(process_memory_utilization{service_name="chat\\"bot"}[300s]))');
    expect(fleetQueries(undefined, 60).activeStreams).toBe('sum by (job, instance) (chatbot_streams_active)');
    // The model calls by provider and request model, the app's own cancels left out as in the recording rules.
    expect(q.upstreams.errors).toBe(
      'sum by (gen_ai_provider_name, gen_ai_request_model) (increase(gen_ai_client_operation_duration_count{service_name="chat\\"bot", error_type!="", error_type!="cancelled"}[300s]))',
    );
    expect(q.upstreams.firstChunkP95).toBe(
      'histogram_quantile(0.95, sum by (gen_ai_provider_name, gen_ai_request_model, le) (rate(gen_ai_client_operation_time_to_first_chunk_bucket{service_name="chat\\"bot"}[300s])))',
    );
    // One query per KPI whatever the fleet's size: 5 per latency KPI, 10 others, 5 for the model calls.
    expect(FLEET_QUERY_COUNT).toBe(30);
    expect([roundCount(2.5), roundCount(NaN), roundCount(-0.1), roundCount(Infinity), roundCount(undefined)]).toEqual([3, 0, 0, 0, 0]);
  });
});
