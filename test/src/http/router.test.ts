import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { TrackedStream } from '../../../instrumentation/streams/tracked-stream';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { createHealthRouter } from '../../../src/http/router';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { HealthService, type DependencyResult, type DependencySource } from '../../../src/service/health-service';

/** A dependency source whose results the test sets: the interface the scheduler fills in production. */
class StaticDependencies implements DependencySource {
  list: DependencyResult[] = [];
  results() {
    return this.list;
  }
  start() {}
  async stop() {}
}

const TOKEN = 's3cret-token';
let recorder: Recorder;
let service: HealthService;
let deps: StaticDependencies;
let server: HealthServer;
let base: string;

function dep(name: string, component: string, status: 'pass' | 'warn' | 'fail', required: boolean): DependencyResult {
  return { name, component, measurement: 'responseTime', status, required, value: 3, unit: 'ms', time: new Date().toISOString(), durationMs: 3, details: { version: '15', pool: { total: 1 } }, ...(status === 'fail' ? { message: 'connection refused' } : {}) };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // left empty: the test asserts on status
  }
  return { status: res.status, body, headers: res.headers };
}

beforeAll(async () => {
  recorder = new Recorder();
  const config = resolveHealthConfig(
    { minSamples: 5, hysteresis: 1, rateLimits: { '/api/v1/health/dashboard': { limit: 3, window: '1m' } } },
    { CHATPULSE_HEALTH_TOKEN: TOKEN },
  );
  deps = new StaticDependencies();
  service = new HealthService({ config, signals: HealthService.windowSource(recorder, config), dependencies: deps, autoEvaluate: false });
  await service.evaluate();
  const router = createHealthRouter({ service, logger: pino({ level: 'silent' }), serviceName: 'router-test', version: '0.1.0' });
  server = await listenHealthServer(router, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
  await server.close();
  await service.close();
});

describe('status and grading through the endpoints', () => {
  it('reports healthy, then degraded and unhealthy as injected traffic breaches thresholds', async () => {
    let r = await get('/api/v1/health');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('healthy');
    const route = recorder.route('/chat');
    for (let i = 0; i < 20; i++) recorder.firstToken(route, 1.5); // p95 1.5 s: warn (> 1 s)
    await service.evaluate();
    r = await get('/api/metrics/health/streaming');
    expect(r.body).toMatchObject({ success: true, status: 'degraded' });
    const ttft = (r.body.checks as Record<string, Record<string, unknown>>).timeToFirstToken!;
    expect(ttft.status).toBe('warn');
    expect(ttft.value).toBe('1500ms');
    expect(ttft.threshold).toBe('≤1000ms (fail >2000ms)');
    for (let i = 0; i < 200; i++) recorder.firstToken(route, 2.5);
    await service.evaluate();
    r = await get('/api/v1/health');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('unhealthy');
    expect(r.body.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^timeToFirstToken: /)]));
    // Issue 16: a latency KPI (shared by every replica) grades the service, not its readiness.
    const ready = await get('/api/v1/health/ready', { authorization: '' });
    expect(ready.status).toBe(200);
    expect((await get('/api/v1/health/live', { authorization: '' })).status).toBe(200);
  });

  it('answers in the IETF health+json format when asked', async () => {
    const res = await fetch(`${base}/api/v1/health`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/health+json' } });
    expect(res.headers.get('content-type')).toMatch(/^application\/health\+json/);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string; observedValue?: number }[]> };
    expect(body.status).toBe('fail');
    expect(body.checks['streaming:timeToFirstToken.p95']![0]!.status).toBe('fail');
    expect(body.checks['streaming:timeToFirstToken.p95']![0]!.observedValue).toBeGreaterThan(2);
  });
});

describe('dependencies', () => {
  it('degrades on a failing optional dependency and is unhealthy on a failing required one', async () => {
    const fresh = new Recorder();
    const config = resolveHealthConfig({ hysteresis: 1 }, {});
    const d = new StaticDependencies();
    const s = new HealthService({ config, signals: HealthService.windowSource(fresh, config), dependencies: d, autoEvaluate: false });
    await s.evaluate();
    d.list = [dep('redis', 'redis', 'fail', false)];
    expect(s.report().status).toBe('degraded');
    expect(s.ready().ready).toBe(true);
    d.list = [dep('redis', 'redis', 'fail', false), dep('database', 'database', 'fail', true)];
    expect(s.report().status).toBe('unhealthy');
    expect(s.ready()).toMatchObject({ ready: false });
    await s.close();
  });

  it('serves database details only with ?details=true, and 400 for a bad value', async () => {
    deps.list = [dep('database', 'database', 'pass', true)];
    let r = await get('/api/v1/health/database');
    expect(r.body).toMatchObject({ service: 'database', status: 'healthy' });
    expect(r.body.details).toBeUndefined();
    r = await get('/api/v1/health/database?details=true');
    expect(r.body.details).toEqual({ version: '15', pool: { total: 1 } });
    r = await get('/api/v1/health/database?details=maybe');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/details="maybe"/);
    expect((await get('/api/v1/health/redis')).status).toBe(404);
    deps.list = [];
  });
});

describe('security and operations', () => {
  it('requires the bearer token except on live, ready and /health', async () => {
    for (const p of ['/api/v1/health', '/api/v1/health/deep', '/api/metrics/streaming', '/api/v1/health/integrations', '/api/metrics/streaming/events']) {
      expect((await get(p, { authorization: '' })).status, p).toBe(401);
      expect((await get(p, { authorization: 'Bearer wrong' })).status, p).toBe(401);
    }
    for (const p of ['/health', '/api/v1/health/live', '/api/v1/health/ready']) {
      expect([200, 503], p).toContain((await get(p, { authorization: '' })).status);
    }
  });

  it('rate limits per client and endpoint with 429 and Retry-After', async () => {
    const codes: number[] = [];
    let last: Headers | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await get('/api/v1/health/dashboard');
      codes.push(r.status);
      last = r.headers;
    }
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(last!.get('retry-after'))).toBeLessThanOrEqual(60);
    // Another endpoint has its own budget.
    expect((await get('/api/metrics/streaming')).status).toBe(200);
  });

  it('rejects bad query parameters with a 400 naming them', async () => {
    const bad = await get('/api/v1/health?service=parlant');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/service="parlant".*database, redis, streaming, system, integrations, quick/);
    expect((await get('/api/metrics/streaming/events?limit=0')).status).toBe(400);
    expect((await get('/api/metrics/streaming/events?limit=abc')).status).toBe(400);
    expect((await get('/api/metrics/streaming/events?limit=501')).status).toBe(400);
    expect((await get('/api/v1/health?service=quick')).body).toEqual(expect.objectContaining({ status: 'unhealthy' }));
  });

  it('carries X-Request-ID (echoing a sane one) and Cache-Control on every response', async () => {
    const r = await get('/api/v1/health/live', { 'x-request-id': 'abc-123' });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
    const minted = await get('/api/v1/health/live', { 'x-request-id': 'bad id with spaces' });
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect((await get('/api/metrics/streaming/summary')).headers.get('cache-control')).toBe('private, max-age=10');
    expect((await get('/api/v1/health')).headers.get('cache-control')).toMatch(/max-age=0/);
  });

  it('lists recent stream events newest first, bounded by limit', async () => {
    const route = recorder.route('/events');
    for (let i = 0; i < 5; i++) {
      recorder.streamStarted(route);
      recorder.streamEnded(route, 'completed', i);
    }
    const r = await get('/api/metrics/streaming/events?limit=3');
    const events = r.body.events as { event: string; seconds: number; route: string }[];
    expect(r.body.count).toBe(3);
    expect(events[0]).toMatchObject({ event: 'end', seconds: 4, route: '/events' });
  });

  it('shows chunks per stream, the time between chunks and the token usage the streams reported', async () => {
    const route = recorder.route('/output');
    for (let i = 0; i < 4; i++) {
      const t0 = 1000 * i;
      const stream = new TrackedStream(recorder, route, t0);
      // First token at 100 ms, then three more chunks 50 ms apart (one write carrying two at the end).
      stream.content(t0 + 100, 1);
      stream.content(t0 + 150, 1);
      stream.content(t0 + 250, 2);
      stream.usage(10, 4);
      stream.end('completed', t0 + 300);
    }
    await service.evaluate();
    const r = await get('/api/metrics/streaming');
    const out = (r.body.metrics as Record<string, unknown>).output as Record<string, unknown>;
    expect(out).toMatchObject({ streams: 4, chunks: 16, chunksPerStream: 4, tokens: { input: 40, output: 16, streamsReporting: 4 } });
    const gap = out.timePerChunkMs as { count: number; p50: number };
    expect(gap.count).toBe(4);
    // (250 - 100) / 3 = 50 ms, within the window histogram's resolution.
    expect(gap.p50).toBeGreaterThan(49);
    expect(gap.p50).toBeLessThan(51);
    expect(out.chunksPerSecond).toBeCloseTo(20, 0);
  });

  it('turns readiness 503 at once when shutdown begins', async () => {
    const fresh = new Recorder();
    const config = resolveHealthConfig({}, {});
    const s = new HealthService({ config, signals: HealthService.windowSource(fresh, config), autoEvaluate: false });
    await s.evaluate();
    expect(s.ready().ready).toBe(true);
    s.beginShutdown();
    expect(s.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'shutting down' });
    await s.close();
  });
});
