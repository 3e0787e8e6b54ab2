/**
 * Zero-code dependency discovery: an app with its own ioredis and pg clients and no REDIS_URL /
 * DATABASE_URL, under the hook with CHATPULSE_HEALTH_PORT, against the real Postgres (behind a
 * proxy of the test's, cut and restored) and the real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, spawnApp, waitUntil, type AppChild } from '../../fixtures/harness';
import { ToggleProxy } from '../../helpers/net';
import { TempRedisCluster } from '../../helpers/redis-cluster';

const APP = path.join(FIXTURES, 'discovery', 'app.js');
const PASSWORD = 'discovered-s3cret';
const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-discovery-'));
const configFile = path.join(dir, 'health.yaml');
writeFileSync(
  configFile,
  ['minSamples: 1000', 'evaluationInterval: 200ms', 'database: { interval: 400ms, timeout: 800ms }', 'redis: { interval: 400ms, timeout: 800ms }'].join('\n'),
);

let pgProxy: ToggleProxy;
beforeAll(async () => {
  pgProxy = await new ToggleProxy(5432).up();
});
afterAll(async () => {
  await killAllChildren();
  await pgProxy?.down();
  rmSync(dir, { recursive: true, force: true });
});

interface Dep {
  status: string;
  required: boolean;
  details?: { target?: string };
}

async function start(env: Record<string, string> = {}): Promise<{ app: AppChild; health: string }> {
  const healthPort = await freePort();
  const app = await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: APP,
    env: {
      APP_PG_PORT: String(pgProxy.port),
      APP_PG_PASSWORD: PASSWORD,
      CHATPULSE_HEALTH_PORT: String(healthPort),
      CHATPULSE_HEALTH_HOST: '127.0.0.1',
      CHATPULSE_HEALTH_CONFIG: configFile,
      CHATPULSE_HEALTH_RATE_LIMITS: 'off',
      OTEL_METRICS_EXPORTER: 'none',
      ...env,
    },
    readyTimeoutMs: 15_000,
  });
  const health = `http://127.0.0.1:${healthPort}`;
  // The health endpoints start beside the app, not before it.
  await waitUntil(() => get(`${health}/api/v1/health/live`).then((r) => r.status === 200, () => false), 10_000, 'health endpoints');
  return { app, health };
}

/** The status page's first snapshot, from its live stream. */
async function statusPageSnapshot(health: string): Promise<{ checks: { name: string; group: string }[] }> {
  const ticket = (await (await fetch(`${health}/api/v1/health/stream/ticket`, { method: 'POST' })).json()) as { ticket: string };
  const ac = new AbortController();
  const res = await fetch(`${health}/api/v1/health/stream?ticket=${encodeURIComponent(ticket.ticket)}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!/\nevent: snapshot\ndata: .*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended early: ${text.slice(0, 200)}`);
    text += decoder.decode(value, { stream: true });
  }
  ac.abort();
  return JSON.parse(/\nevent: snapshot\ndata: (.*)\n\n/.exec(text)![1]!);
}

async function json<T>(url: string): Promise<T> {
  return JSON.parse((await get(url)).body) as T;
}

/** The dependency checks the report lists, by name (the KPI groups left out). */
async function dependencies(health: string): Promise<Record<string, { status: string; required?: boolean }>> {
  const report = await json<{ services: Record<string, { checks: Record<string, { status: string; required?: boolean }> }> }>(`${health}/api/v1/health`);
  const out: Record<string, { status: string; required?: boolean }> = {};
  for (const [group, s] of Object.entries(report.services)) {
    if (group === 'streaming') continue;
    for (const [name, c] of Object.entries(s.checks)) if (c.required !== undefined) out[name] = c;
  }
  return out;
}

describe('dependencies the app connects to, checked without configuration', () => {
  it('lists its Postgres (required) and Redis (optional) from the clients’ options, never showing the password; Postgres cut turns unhealthy and recovers', async () => {
    const { app, health } = await start();
    await waitUntil(async () => Object.keys(await dependencies(health)).length === 2, 10_000, 'both dependencies listed');
    await waitUntil(async () => (await json<Dep>(`${health}/api/v1/health/database`)).status === 'healthy', 5000, 'database healthy');
    const deps = await dependencies(health);
    expect(deps.database?.required).toBe(true);
    expect(deps.redis?.required).toBe(false);
    const db = await json<Dep>(`${health}/api/v1/health/database?details=true`);
    expect(db.details?.target).toBe(`postgres://postgres@127.0.0.1:${pgProxy.port}/test`);
    const redis = await json<Dep>(`${health}/api/v1/health/redis?details=true`);
    expect(redis.status).toBe('healthy');
    expect(redis.details?.target).toBe('redis://127.0.0.1:6379/0');
    expect((await get(`${health}/api/v1/health/ready`)).status).toBe(200);
    const page = await statusPageSnapshot(health);
    expect(page.checks.filter((c) => c.group === 'dependencies').map((c) => c.name).sort()).toEqual(['database', 'redis', 'system:disk']);

    await pgProxy.down();
    await waitUntil(async () => (await json<Dep>(`${health}/api/v1/health/database`)).status === 'unhealthy', 5000, 'database unhealthy');
    expect((await get(`${health}/api/v1/health/ready`)).status).toBe(503);
    const bodies = await Promise.all(
      ['/api/v1/health', '/api/v1/health/deep', '/api/v1/health/database?details=true', '/api/v1/health/redis?details=true'].map(async (p) => (await get(health + p)).body),
    );
    for (const b of bodies) expect(b).not.toContain(PASSWORD);

    await pgProxy.up();
    await waitUntil(async () => (await json<Dep>(`${health}/api/v1/health/database`)).status === 'healthy', 8000, 'database healthy again');
    expect((await get(`${health}/api/v1/health/ready`)).status).toBe(200);
    expect(app.stdout() + app.stderr()).not.toContain(PASSWORD);
  }, 40_000);

  it('an explicit DATABASE_URL wins: the app’s own database is not checked a second time', async () => {
    const { health } = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await waitUntil(async () => Object.keys(await dependencies(health)).length === 2, 10_000, 'two dependencies listed');
    await new Promise((r) => setTimeout(r, 500));
    expect(Object.keys(await dependencies(health)).sort()).toEqual(['database', 'redis']);
    const db = await json<Dep>(`${health}/api/v1/health/database?details=true`);
    expect(db.details?.target).toBe('postgres://postgres@127.0.0.1:5432/postgres');
  }, 30_000);

  it('a Redis Cluster the app connects to is one check of the whole cluster, not one per node', async () => {
    const cluster = await TempRedisCluster.start();
    try {
      const { app, health } = await start({ APP_REDIS_CLUSTER_PORT: String(cluster.ports[0]) });
      expect((await get(`http://127.0.0.1:${app.port}/chat`)).body).toContain('[DONE]');
      await waitUntil(
        async () => (await json<Dep & { details?: { clusterState?: string } }>(`${health}/api/v1/health/redis?details=true`)).details?.clusterState === 'ok',
        10_000,
        'the cluster check',
      );
      const redis = await json<Dep & { details?: { masters?: number } }>(`${health}/api/v1/health/redis?details=true`);
      expect(redis.details).toMatchObject({ target: `redis://127.0.0.1:${cluster.ports[0]}`, masters: 3 });
      const deps = await dependencies(health);
      expect(Object.keys(deps).sort(), JSON.stringify(deps)).toEqual(['database', 'redis']);
    } finally {
      await killAllChildren();
      cluster.stop();
    }
  }, 40_000);

  it('CHATPULSE_DISCOVER_DEPENDENCIES=false switches discovery off', async () => {
    const { app, health } = await start({ CHATPULSE_DISCOVER_DEPENDENCIES: 'false' });
    expect((await get(`http://127.0.0.1:${app.port}/chat`)).body).toContain('[DONE]');
    await new Promise((r) => setTimeout(r, 800));
    expect(Object.keys(await dependencies(health))).toEqual([]);
  }, 30_000);
});
