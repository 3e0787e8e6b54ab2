/**
 * `node --import …register.js app.mjs`: an ESM app importing express, ioredis and pg is still
 * instrumented (HTTP streams, cache lookups, database durations), against the real Redis and
 * Postgres on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import Redis from 'ioredis';
import { FIXTURES, REGISTER, REPO, freePort, get, killAllChildren, parsePrometheus, scrape, spawnApp } from '../../fixtures/harness';

const APP = path.join(FIXTURES, 'esm-app.mjs');
const KB_KEY = `kb:chatpulse-test:${randomUUID()}`;
let redis: Redis;

beforeAll(async () => {
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  await redis.connect();
  await redis.set(KB_KEY, 'the answer is 42', 'EX', 120);
});

afterAll(async () => {
  await killAllChildren();
  if (redis !== undefined) {
    await redis.del(KB_KEY).catch(() => undefined);
    redis.disconnect();
  }
});

async function runAndScrape(importSpecifier: string): Promise<ReturnType<typeof parsePrometheus>> {
  const port = await freePort();
  const app = await spawnApp({
    nodeArgs: ['--import', importSpecifier],
    script: APP,
    cwd: REPO,
    env: { KB_KEY, OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' },
  });
  const r = await get(`http://127.0.0.1:${app.port}/chat/7`);
  expect(r.status, r.body).toBe(200);
  expect(r.body).toContain('"kb":"the answer is 42"');
  expect(r.body).toContain('[DONE]');
  const samples = parsePrometheus(await scrape(`http://127.0.0.1:${port}/metrics`));
  app.proc.kill('SIGTERM');
  await app.waitExit(5000);
  expect(app.stderr()).toBe('');
  return samples;
}

function value(samples: ReturnType<typeof parsePrometheus>, name: string, labels: Record<string, string>): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.length === 0 ? undefined : hits.reduce((a, s) => a + s.value, 0);
}

function expectInstrumented(samples: ReturnType<typeof parsePrometheus>): void {
  expect(value(samples, 'chatbot_stream_time_to_first_token_count', { http_route: '/chat/:id' })).toBe(1);
  expect(value(samples, 'chatbot_streams_total', { http_route: '/chat/:id', chatbot_stream_outcome: 'completed' })).toBe(1);
  expect(value(samples, 'chatbot_cache_lookups_total', { chatbot_cache_name: 'kb', chatbot_cache_result: 'hit' })).toBe(1);
  expect(value(samples, 'chatbot_cache_lookups_total', { chatbot_cache_name: 'kb', chatbot_cache_result: 'miss' }) ?? 0).toBe(0);
  expect(value(samples, 'db_client_operation_duration_count', { db_operation_name: 'SELECT', db_system_name: 'postgresql' })).toBeGreaterThanOrEqual(1);
}

describe('ESM app under --import', () => {
  it('--import <repo>/dist/instrumentation/register.js: TTFT, kb cache hit and pg SELECT recorded', async () => {
    expectInstrumented(await runAndScrape(REGISTER));
  });

  it('--import chatpulse/register (package self-reference, cwd = repo root)', async () => {
    expectInstrumented(await runAndScrape('chatpulse/register'));
  });
});
