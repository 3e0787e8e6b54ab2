/**
 * OTLP/HTTP export end to end: a plain node:http SSE app runs under `--require register` in a
 * child process and pushes to a real receiver that decodes protobuf and JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, REGISTER, get, killAllChildren, sleep, spawnApp, type Exit } from '../../fixtures/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedExport, type ReceivedMetric } from '../../helpers/otlp-receiver';
import { LATENCY_BUCKETS_SECONDS } from '../../../instrumentation/metrics/catalog';

const APP = path.join(FIXTURES, 'sse-app.js');
const TOKEN_DELAY_MS = 150;

const receivers: OtlpReceiver[] = [];
async function receiver(paths?: string[]): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver({ paths });
  receivers.push(r);
  return r;
}

afterAll(async () => {
  await killAllChildren();
  await Promise.all(receivers.map((r) => r.close()));
});

function baseEnv(r: OtlpReceiver): Record<string, string> {
  return {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${r.port}`,
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_SERVICE_NAME: 'otlp-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret%20value',
  };
}

interface Run {
  exit: Exit;
  stderr: string;
  /** Date.now() when the last stream finished on the client. */
  lastStreamAt: number;
}

/** Runs `streams` SSE requests one after another (with `gapMs` between), then lets the app exit on its own. */
async function runApp(env: Record<string, string>, streams: number, gapMs = 0): Promise<Run> {
  const app = await spawnApp({ nodeArgs: ['--require', REGISTER], script: APP, env: { ...env, TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) } });
  let lastStreamAt = 0;
  for (let i = 0; i < streams; i++) {
    if (i > 0 && gapMs > 0) await sleep(gapMs);
    const r = await get(`http://127.0.0.1:${app.port}/chat`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('data: {"token":"Hello"}');
    expect(r.body).toContain('data: [DONE]');
    lastStreamAt = Date.now();
  }
  await get(`http://127.0.0.1:${app.port}/quit`);
  // The app closes its server; the hook's final flush runs on beforeExit and must not hold the process.
  const exit = await app.waitExit(10_000);
  return { exit, stderr: app.stderr(), lastStreamAt };
}

function only(e: ReceivedExport, name: string): ReceivedMetric {
  const ms = e.metrics.filter((m) => m.name === name);
  expect(ms, `${name} exactly once in an export`).toHaveLength(1);
  return ms[0]!;
}

function histogramTotals(m: ReceivedMetric): { count: number; sum: number } {
  let count = 0;
  let sum = 0;
  for (const p of m.points) {
    count += p.count!;
    sum += p.sum!;
  }
  return { count, sum };
}

/** What a complete cumulative export of a run with `streams` streams must contain. */
function expectCompleteExport(e: ReceivedExport, streams: number): void {
  expect(e.path).toBe('/v1/metrics');
  expect(e.resourceAttributes['service.name']).toBe('otlp-test');
  expect(e.resourceAttributes['deployment.environment']).toBe('test');
  expect(e.headers['x-api-key']).toBe('secret value');

  const ttft = only(e, 'chatbot.stream.time_to_first_token');
  expect(ttft.kind).toBe('histogram');
  expect(ttft.unit).toBe('s');
  expect(ttft.temporality).toBe('cumulative');
  const { count, sum } = histogramTotals(ttft);
  expect(count).toBe(streams);
  // Each first token comes TOKEN_DELAY_MS after arrival; allow 150 ms of scheduling per stream.
  expect(sum).toBeGreaterThanOrEqual((streams * (TOKEN_DELAY_MS - 5)) / 1000);
  expect(sum).toBeLessThan((streams * (TOKEN_DELAY_MS + 150)) / 1000);
  for (const p of ttft.points) {
    expect(p.attributes['http.route']).toBe('unmatched');
    expect(p.bounds).toEqual([...LATENCY_BUCKETS_SECONDS]);
    expect(p.bucketCounts).toHaveLength(LATENCY_BUCKETS_SECONDS.length + 1);
    expect(p.bucketCounts!.reduce((a, b) => a + b, 0)).toBe(p.count);
  }

  const finished = only(e, 'chatbot.streams');
  expect(finished.kind).toBe('sum');
  expect(finished.isMonotonic).toBe(true);
  expect(finished.temporality).toBe('cumulative');
  const completed = finished.points.filter((p) => p.attributes['chatbot.stream.outcome'] === 'completed');
  expect(completed.reduce((a, p) => a + p.value!, 0)).toBe(streams);

  const http = only(e, 'http.server.request.duration');
  expect(http.kind).toBe('histogram');
  // The streams plus the /quit request.
  expect(histogramTotals(http).count).toBe(streams + 1);
  expect(http.points.every((p) => p.attributes['http.request.method'] === 'GET')).toBe(true);
}

describe('OTLP/HTTP metrics export from a child app under --require register', () => {
  beforeAll(() => {
    expect(existsSync(REGISTER), `${REGISTER} missing: run npm run build`).toBe(true);
  });

  it('http/protobuf (the default): decodes, carries TTFT, streams, HTTP duration, resource and headers', async () => {
    const r = await receiver();
    const run = await runApp(baseEnv(r), 3);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.stderr).toBe('');
    expect(r.rejected).toEqual([]);
    expect(r.exports.length).toBeGreaterThan(0);
    for (const e of r.exports) {
      expect(e.contentType).toBe('application/x-protobuf');
      expect(e.headers['x-api-key']).toBe('secret value');
      expect(e.headers['content-encoding']).toBeUndefined();
    }
    const last = r.exports[r.exports.length - 1]!;
    // The final export is the flush on the way out: it comes after the last stream and has it all.
    expect(last.receivedAt).toBeGreaterThanOrEqual(run.lastStreamAt);
    expectCompleteExport(last, 3);
  });

  it('http/json: the same content as OTLP JSON', async () => {
    const r = await receiver();
    const run = await runApp({ ...baseEnv(r), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 3);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.stderr).toBe('');
    expect(r.rejected).toEqual([]);
    expect(r.exports.length).toBeGreaterThan(0);
    for (const e of r.exports) expect(e.contentType).toBe('application/json');
    expectCompleteExport(r.exports[r.exports.length - 1]!, 3);
  });

  it('OTEL_EXPORTER_OTLP_COMPRESSION=gzip: bodies arrive gzipped and decode', async () => {
    const r = await receiver();
    const run = await runApp({ ...baseEnv(r), OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, 2);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(r.rejected).toEqual([]);
    expect(r.exports.length).toBeGreaterThan(0);
    for (const e of r.exports) expect(e.headers['content-encoding']).toBe('gzip');
    expectCompleteExport(r.exports[r.exports.length - 1]!, 2);
  });

  it('temporality preference delta: DELTA counters and histograms that add up; streams.active stays cumulative', async () => {
    const r = await receiver();
    const streams = 4;
    // Streams spread over several 200 ms export intervals.
    const run = await runApp({ ...baseEnv(r), OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }, streams, 150);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(r.rejected).toEqual([]);

    const ttft = r.metric('chatbot.stream.time_to_first_token');
    const finished = r.metric('chatbot.streams');
    const http = r.metric('http.server.request.duration');
    const active = r.metric('chatbot.streams.active');
    expect(ttft.length).toBeGreaterThan(1);
    for (const m of [...ttft, ...http]) expect(m.temporality).toBe('delta');
    for (const m of finished) {
      expect(m.temporality).toBe('delta');
      expect(m.isMonotonic).toBe(true);
    }
    for (const m of active) {
      expect(m.temporality).toBe('cumulative');
      expect(m.isMonotonic).toBe(false);
    }
    expect(active.length).toBeGreaterThan(0);
    expect(active[active.length - 1]!.points.reduce((a, p) => a + p.value!, 0)).toBe(0);

    // Per-export counts add up to the total, and the data really was split across exports.
    const perExport = ttft.map((m) => histogramTotals(m).count);
    expect(perExport.reduce((a, b) => a + b, 0)).toBe(streams);
    expect(perExport.filter((c) => c > 0).length).toBeGreaterThan(1);
    const completed = finished.flatMap((m) => m.points.filter((p) => p.attributes['chatbot.stream.outcome'] === 'completed'));
    expect(completed.reduce((a, p) => a + p.value!, 0)).toBe(streams);
    expect(http.reduce((a, m) => a + histogramTotals(m).count, 0)).toBe(streams + 1);

    // Delta windows of one series are contiguous and do not overlap.
    const windows = ttft.map((m) => m.points[0]!);
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i]!.startTimeUnixNano).toBe(windows[i - 1]!.timeUnixNano);
      expect(windows[i]!.timeUnixNano).toBeGreaterThan(windows[i]!.startTimeUnixNano);
    }
  });

  it('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as-is and wins over OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const custom = await receiver(['/custom/otlp/ingest']);
    const generic = await receiver();
    const env = {
      ...baseEnv(generic),
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${custom.port}/custom/otlp/ingest`,
    };
    const run = await runApp(env, 1);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(custom.rejected).toEqual([]);
    expect(custom.exports.length).toBeGreaterThan(0);
    for (const e of custom.exports) expect(e.path).toBe('/custom/otlp/ingest');
    expect(generic.arrivals).toEqual([]);
    const ttft = only(custom.exports[custom.exports.length - 1]!, 'chatbot.stream.time_to_first_token');
    expect(histogramTotals(ttft).count).toBe(1);
  });
});
