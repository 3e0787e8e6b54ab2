/**
 * The default exporter: a Prometheus scrape endpoint served from the app process, checked by
 * scraping a real child app under `--require register`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  FIXTURES,
  REGISTER,
  canConnect,
  freePort,
  get,
  killAllChildren,
  parsePrometheus,
  scrape,
  sleep,
  spawnApp,
  waitUntil,
  type PromSample,
} from '../../fixtures/harness';
import { LATENCY_BUCKETS_SECONDS } from '../../../instrumentation/metrics/catalog';

const APP = path.join(FIXTURES, 'sse-app.js');

afterAll(killAllChildren);

const sum = (xs: PromSample[]) => xs.reduce((a, s) => a + s.value, 0);
const series = (samples: PromSample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('Prometheus exporter (default)', () => {
  it('serves the catalog names with bucket edges and service_name, and does not count scrapes as traffic', async () => {
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(port), TOKEN_DELAY_MS: '120' },
    });
    for (let i = 0; i < 3; i++) expect((await get(`http://127.0.0.1:${app.port}/chat`)).body).toContain('[DONE]');
    expect((await get(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);

    const url = `http://localhost:${port}/metrics`;
    await scrape(url);
    await scrape(url);
    const text = await scrape(url);
    const samples = parsePrometheus(text);

    // Histogram with the catalog's bucket edges, as Prometheus renders them.
    const ttft = series(samples, 'chatbot_stream_time_to_first_token_bucket', { http_route: 'unmatched' });
    expect(ttft.map((s) => s.labels.le)).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(text).toContain('le="0.5"');
    expect(text).toContain('le="1"');
    const le = (v: string) => ttft.find((s) => s.labels.le === v)!.value;
    expect(le('0.1')).toBe(0); // every first token came ≥ 120 ms after arrival
    expect(le('0.5')).toBe(3);
    expect(le('+Inf')).toBe(3);
    expect(sum(series(samples, 'chatbot_stream_time_to_first_token_count'))).toBe(3);

    expect(sum(series(samples, 'chatbot_streams_total', { chatbot_stream_outcome: 'completed' }))).toBe(3);
    expect(series(samples, 'http_server_request_duration_bucket').length).toBeGreaterThan(0);
    expect(series(samples, 'process_memory_usage')[0]!.value).toBeGreaterThan(0);
    expect(series(samples, 'nodejs_eventloop_delay').map((s) => s.labels.nodejs_eventloop_delay_percentile).sort()).toEqual(
      ['max', 'mean', 'p50', 'p90', 'p99'],
    );

    // Every series carries service_name (the SDK default `unknown_service:<executable>` here).
    const serviceName = series(samples, 'target_info')[0]!.labels.service_name!;
    expect(serviceName).toMatch(/^unknown_service:.*node$/);
    for (const s of samples) expect(s.labels.service_name, `${s.name} has service_name`).toBe(serviceName);

    // Three scrapes later, HTTP traffic is still exactly the app's 4 requests, none in flight,
    // and no series mentions the metrics path.
    expect(sum(series(samples, 'http_server_request_duration_count'))).toBe(4);
    expect(sum(series(samples, 'http_server_active_requests'))).toBe(0);
    for (const s of samples) for (const v of Object.values(s.labels)) expect(v).not.toContain('/metrics');
    expect(app.stderr()).toBe('');
  });

  it('OTEL_EXPORTER_PROMETHEUS_HOST: binds to that address only', async () => {
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.2', CHATPULSE_DEBUG: 'true' },
    });
    const text = await scrape(`http://127.0.0.2:${port}/metrics`);
    expect(text).toContain('process_memory_usage');
    expect(await canConnect('127.0.0.1', port)).toBe(false);
    await waitUntil(() => app.stderr().includes('Prometheus metrics at'), 3000, 'debug line');
    expect(app.stderr()).toContain(`Prometheus metrics at http://127.0.0.2:${port}/metrics`);

    const port2 = await freePort();
    await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(port2), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' },
    });
    expect(await scrape(`http://127.0.0.1:${port2}/metrics`)).toContain('target_info');
  });

  it('a port already in use: one warning naming the port, and the app still runs', async () => {
    const blocker = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const app = await spawnApp({
        nodeArgs: ['--require', REGISTER],
        script: APP,
        env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', TOKEN_DELAY_MS: '20' },
      });
      await waitUntil(() => app.stderr().includes('warning'), 3000, 'the warning');
      const r = await get(`http://127.0.0.1:${app.port}/chat`);
      expect(r.status).toBe(200);
      expect(r.body).toContain('[DONE]');
      await sleep(200);
      const lines = app.stderr().split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^\[chatpulse\] warning: /);
      expect(lines[0]).toContain(`:${port}`);
      expect(lines[0]).toContain('EADDRINUSE');
      expect(app.proc.exitCode).toBeNull();
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
