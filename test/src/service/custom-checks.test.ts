import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import express from 'express';
import { createHealth, HealthConfigError, type Health, type HealthCheck } from '../../../index';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { waitFor } from '../checks/wait';

/**
 * Mounted mode: the app's own checks given to createHealth({ checks }) — healthy with details,
 * degraded, optional and never settling (500 ms timeout, 1 s interval), required and throwing with
 * a password in its message — graded, served and redacted like the built-in checks.
 */
const FIXTURES = path.resolve(__dirname, '../../fixtures/health-checks');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CHECKS = require(path.join(FIXTURES, 'checks.js')) as HealthCheck[];
const TOKEN = 'test-token-123456';
const auth = { authorization: `Bearer ${TOKEN}` };
const open: { health: Health; server: http.Server }[] = [];

async function mount(checks: readonly HealthCheck[], config: Record<string, unknown> = {}): Promise<{ health: Health; base: string }> {
  const health = await createHealth({
    env: { CHATPULSE_ALERT_INTERVAL: '100ms' },
    checks,
    recorder: new Recorder(),
    serviceName: 'custom-checks-test',
    config: { minSamples: 1000, evaluationInterval: '100ms', token: TOKEN, rateLimits: {}, ...config },
  });
  const app = express();
  app.use(health.router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  open.push({ health, server });
  return { health, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function getJson(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, any>; ms: number }> {
  const t = performance.now();
  const res = await fetch(url, { headers });
  const body = (await res.json()) as Record<string, any>;
  return { status: res.status, body, ms: performance.now() - t };
}

afterAll(async () => {
  for (const { health, server } of open) {
    server.close();
    // The never-settling check holds stop() for its bounded wait; do not wait on each in turn.
    void health.close();
  }
});

describe('the app’s own checks, mounted', () => {
  let base = '';
  let health: Health;
  let startedAt = 0;
  let timedOutAfter = 0;

  beforeAll(async () => {
    startedAt = performance.now();
    ({ health, base } = await mount(CHECKS));
    // Meanwhile every endpoint answers from memory: the hung check is never awaited.
    const slowest: number[] = [];
    await waitFor(async () => {
      const r = await getJson(`${base}/api/v1/health/mcp`);
      slowest.push(r.ms);
      return r.body.check === 'fail';
    }, 3000, 'mcp timed out');
    timedOutAfter = performance.now() - startedAt;
    expect(Math.max(...slowest)).toBeLessThan(250);
  });

  it('grades a hung check unhealthy within its timeout plus one interval', () => {
    expect(timedOutAfter).toBeLessThan(500 + 1000);
    expect(timedOutAfter).toBeGreaterThanOrEqual(450);
  });

  it('grades each check and the service (a failing required check makes it unhealthy)', async () => {
    await waitFor(() => health.scheduler.result('game')?.status === 'fail', 2000, 'game');
    const r = await getJson(`${base}/api/v1/health`);
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('unhealthy');
    const custom = r.body.services.custom;
    expect(custom.status).toBe('unhealthy');
    expect(custom.checks.auth).toMatchObject({ status: 'pass', required: true, message: 'OAuth providers configured' });
    expect(custom.checks.parlant).toMatchObject({ status: 'warn', message: 'avg response above 800 ms' });
    expect(custom.checks.mcp).toMatchObject({ status: 'fail', required: false, message: expect.stringMatching(/timed out after 500 ms/) });
    expect(custom.checks.game).toMatchObject({ status: 'fail', required: true });
    expect(r.body.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^mcp \(optional\): timed out/), expect.stringMatching(/^game: cannot reach/)]));
    // The summary never carries details.
    expect(custom.checks.auth.details).toBeUndefined();
  });

  it('serves each check at /api/v1/health/<name>, details behind the token and redacted', async () => {
    expect((await getJson(`${base}/api/v1/health/auth`, {})).status).toBe(401);
    const plain = await getJson(`${base}/api/v1/health/auth`);
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ service: 'auth', status: 'healthy', check: 'pass', tags: ['auth'] });
    expect(plain.body.details).toBeUndefined();
    const detailed = await getJson(`${base}/api/v1/health/auth?details=true`);
    expect(detailed.body.details).toEqual({ providers: ['google', 'github'], configured: 2, clientSecret: '***', issuer: 'https://svc:***@idp.example.com/realms/chat' });
    const agents = await getJson(`${base}/api/v1/health/parlant?details=true`);
    expect(agents.status).toBe(200);
    expect(agents.body).toMatchObject({ status: 'degraded', details: { agents: 3, activeSessions: 12, avgResponseMs: 840 } });
    const mcp = await getJson(`${base}/api/v1/health/mcp`);
    expect(mcp.status).toBe(200);
    expect(mcp.body).toMatchObject({ status: 'degraded', check: 'fail', required: false });
    const game = await getJson(`${base}/api/v1/health/game?details=true`);
    expect(game.status).toBe(503);
    expect(game.body.status).toBe('unhealthy');
    expect(game.body.message).toBe('cannot reach postgres://game:***@10.0.0.7:5432/game (password=***)');
    // No response anywhere carries a secret.
    for (const url of ['/api/v1/health', '/api/v1/health/deep', '/api/v1/health/game?details=true', '/api/v1/health/auth?details=true']) {
      const text = await (await fetch(`${base}${url}`, { headers: auth })).text();
      for (const secret of ['Hunter2Pw', 'gh-oauth-s3cr3t', 'issuerPw9']) expect(text, url).not.toContain(secret);
    }
    expect((await getJson(`${base}/api/v1/health/nosuch`)).status).toBe(404);
  });

  it('renders them in application/health+json', async () => {
    const res = await fetch(`${base}/api/v1/health/auth?details=true`, { headers: { ...auth, accept: 'application/health+json' } });
    expect(res.headers.get('content-type')).toMatch(/application\/health\+json/);
    const body = (await res.json()) as { status: string; checks: Record<string, { componentId: string; status: string; details?: unknown }[]> };
    expect(body.status).toBe('pass');
    expect(body.checks['custom:status']![0]).toMatchObject({ componentId: 'auth', status: 'pass', details: { clientSecret: '***' } });
    const all = (await (await fetch(`${base}/api/v1/health`, { headers: { ...auth, accept: 'application/health+json' } })).json()) as typeof body;
    expect(all.checks['custom:status']!.map((c) => `${c.componentId}=${c.status}`).sort()).toEqual(['auth=pass', 'game=fail', 'mcp=fail', 'parlant=warn']);
  });

  it('feeds alerts', async () => {
    await waitFor(() => JSON.stringify(health.alerting.activeAlerts()).includes('game'), 3000, 'an alert for game');
  });
});

describe('grading and readiness by tag', () => {
  it('a failing optional check only degrades the service', async () => {
    const { base } = await mount(CHECKS.filter((c) => c.name !== 'game'));
    await waitFor(async () => (await getJson(`${base}/api/v1/health/mcp`)).body.check === 'fail', 3000, 'mcp timed out');
    const r = await getJson(`${base}/api/v1/health`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('degraded');
  });

  it('readiness answers for the checks it selects by tag', async () => {
    const byTag = await mount(CHECKS, { readiness: 'tag:auth' });
    const byDefault = await mount(CHECKS);
    await waitFor(() => byDefault.health.scheduler.result('game')?.status === 'fail', 2000, 'game');
    expect((await fetch(`${byDefault.base}/api/v1/health/ready`, { headers: auth })).status).toBe(503);
    expect((await fetch(`${byTag.base}/api/v1/health/ready`, { headers: auth })).status).toBe(200);
  });

  it('rejects bad checks and a malformed checks module at creation, naming the field and the file', async () => {
    await expect(createHealth({ env: {}, checks: [{ name: 'Auth', check: async () => ({ status: 'healthy' }) }] })).rejects.toThrow(/checks\[0\]\.name/);
    await expect(createHealth({ env: {}, checks: [{ name: 'database', check: async () => ({ status: 'healthy' }) }] })).rejects.toThrow(HealthConfigError);
    const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-checks-'));
    const file = path.join(dir, 'health.yaml');
    writeFileSync(file, `healthChecks: ${path.relative(dir, path.join(FIXTURES, 'bad-name.js'))}\n`);
    const err = await createHealth({ env: { CHATPULSE_HEALTH_CONFIG: file } }).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(HealthConfigError);
    expect(err!.message).toContain(`healthChecks: ${path.join(FIXTURES, 'bad-name.js')}: checks[0].name`);
  });
});
