/**
 * Route labels on the frameworks around Express, each app under `--require chatpulse/register` in
 * a child process (test/fixtures/stacks/routed-apps.js): Express 4 with a mounted router, NestJS
 * on Express, and a raw `node:http` server, which has no template and stays `unmatched`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, killAllChildren, parsePrometheus, scrape, spawnApp } from '../../fixtures/harness';

const FIRST = 150;

/** Seconds from sending the request to the body holding the token. */
function firstToken(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        let at = -1;
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (at < 0 && body.includes('Hello')) at = (performance.now() - t0) / 1000;
        });
        res.on('end', () => resolve(at));
      })
      .on('error', reject);
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0))).on('error', reject);
  });
}

afterAll(killAllChildren);

describe('route templates beyond Express 5', () => {
  for (const [appName, streamRoute, plainRoute] of [
    ['express4', '/api/rooms/:room/stream', '/api/rooms/:room'],
    ['nest', '/api/rooms/:room/stream', '/api/rooms/:room'],
    ['raw', 'unmatched', 'unmatched'],
  ] as const) {
    it(`${appName}: streams and plain requests carry ${streamRoute === 'unmatched' ? 'unmatched' : 'the route template'}; first token right`, async () => {
      const metricsPort = await freePort();
      const app = await spawnApp({
        nodeArgs: ['--require', REGISTER],
        script: path.join(FIXTURES, 'stacks', 'routed-apps.js'),
        env: { APP: appName, FIRST_MS: String(FIRST), OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) },
        readyTimeoutMs: 15_000,
      });
      const base = `http://127.0.0.1:${app.port}/api/rooms`;
      // A first stream warms the app up (lazy loading in the framework delays the client, not the hook).
      await firstToken(`${base}/warm-up/stream`);
      const metrics = async () => parsePrometheus(await scrape(`http://127.0.0.1:${metricsPort}/metrics`));
      const before = await metrics();
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) seen.push(await firstToken(`${base}/r${i}/stream`));
      for (let i = 0; i < 2; i++) expect(await get(`${base}/r${i}`)).toBe(200);
      const after = await metrics();
      const sum = (samples: typeof after, name: string, labels: Record<string, string>) =>
        samples.filter((s) => s.name === name && Object.entries(labels).every(([k, x]) => s.labels[k] === x)).reduce((a, s) => a + s.value, 0);
      const v = (name: string, labels: Record<string, string>) =>
        name.endsWith('_active') ? sum(after, name, labels) : sum(after, name, labels) - sum(before, name, labels);
      expect(v('chatbot_stream_time_to_first_token_count', { http_route: streamRoute })).toBe(3);
      const reported = v('chatbot_stream_time_to_first_token_sum', { http_route: streamRoute }) / 3;
      const client = seen.reduce((a, b) => a + b, 0) / seen.length;
      // The metadata event before the token is not it.
      expect(Math.abs(reported - client), `reported ${reported}, client ${client}`).toBeLessThanOrEqual(0.03);
      expect(reported).toBeGreaterThanOrEqual(FIRST / 1000 - 0.002);
      expect(v('chatbot_streams_active', { http_route: streamRoute })).toBe(0);
      // The metrics scrape itself is not an app request.
      const plain = v('http_server_request_duration_count', { http_route: plainRoute });
      expect(plain).toBe(streamRoute === plainRoute ? 5 : 2);
    }, 30_000);
  }
});
