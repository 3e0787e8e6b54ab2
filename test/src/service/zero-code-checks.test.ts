import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, sleep, spawnApp, waitUntil, type AppChild } from '../../fixtures/harness';

/**
 * Zero-code mode: an app under `--require chatpulse/register` with CHATPULSE_HEALTH_CHECKS naming
 * its checks module (ESM here; CommonJS through the config file) — no line of Chatpulse in the app.
 */
const APP = path.join(FIXTURES, 'sse-app.js');
const CHECKS_DIR = path.join(FIXTURES, 'health-checks');

afterAll(killAllChildren);

async function start(env: Record<string, string>): Promise<{ app: AppChild; health: string }> {
  const healthPort = await freePort();
  const app = await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: APP,
    env: { CHATPULSE_HEALTH_PORT: String(healthPort), CHATPULSE_HEALTH_HOST: '127.0.0.1', CHATPULSE_HEALTH_RATE_LIMITS: 'off', OTEL_METRICS_EXPORTER: 'none', ...env },
  });
  return { app, health: `http://127.0.0.1:${healthPort}` };
}

const json = async (url: string) => {
  const r = await get(url);
  return { status: r.status, body: JSON.parse(r.body) as Record<string, any>, ms: r.elapsedMs };
};

describe('zero-code custom checks', () => {
  it('loads an ESM checks module once at start and grades, serves and redacts its checks', async () => {
    const started = Date.now();
    const { app, health } = await start({ CHATPULSE_HEALTH_CHECKS: './test/fixtures/health-checks/checks.mjs' });
    await waitUntil(async () => (await get(`${health}/api/v1/health/live`).catch(() => ({ status: 0 }))).status === 200, 10_000, 'health port');
    // The hung optional check: unhealthy within its timeout plus one interval of the start, while
    // every poll is answered from memory.
    const polls: number[] = [];
    await waitUntil(async () => {
      const r = await json(`${health}/api/v1/health/mcp`);
      polls.push(r.ms);
      return r.body.check === 'fail';
    }, 5000, 'mcp timed out');
    expect(Date.now() - started).toBeLessThan(5000);
    // Recorded at its 500 ms deadline (not whenever a later tick noticed).
    const mcp = await json(`${health}/api/v1/health/mcp`);
    expect(mcp.body.durationMs).toBeGreaterThanOrEqual(495);
    expect(mcp.body.durationMs).toBeLessThan(500 + 1000);
    expect(mcp.body.message).toMatch(/timed out after 500 ms/);
    expect(Math.max(...polls)).toBeLessThan(500);

    const all = await json(`${health}/api/v1/health`);
    expect(all.status).toBe(503);
    expect(all.body.status).toBe('unhealthy');
    expect(Object.fromEntries(Object.entries(all.body.services.custom.checks as Record<string, { status: string }>).map(([k, v]) => [k, v.status]))).toEqual({ auth: 'pass', parlant: 'warn', mcp: 'fail', game: 'fail' });

    const auth = await json(`${health}/api/v1/health/auth?details=true`);
    expect(auth).toMatchObject({ status: 200, body: { status: 'healthy', details: { providers: ['google', 'github'], configured: 2, clientSecret: '***' } } });
    const agents = await json(`${health}/api/v1/health/parlant?details=true`);
    expect(agents.body).toMatchObject({ status: 'degraded', details: { agents: 3, activeSessions: 12, avgResponseMs: 840 } });
    const game = await json(`${health}/api/v1/health/game`);
    expect(game.status).toBe(503);
    expect(game.body.message).toContain('postgres://game:***@10.0.0.7');
    const deep = await get(`${health}/api/v1/health/deep`);
    for (const secret of ['Hunter2Pw', 'gh-oauth-s3cr3t', 'issuerPw9']) expect(deep.body).not.toContain(secret);
    // The app itself serves on, and nothing leaked an unhandled rejection (the fixture exits 99 on one).
    expect((await get(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);
    await sleep(1200);
    expect(app.proc.exitCode).toBeNull();
    expect(app.stderr()).not.toContain('FIXTURE_UNHANDLED');
  });

  it('takes the module from the config file (healthChecks, relative to the file), CommonJS', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-zc-checks-'));
    const file = path.join(dir, 'health.yaml');
    writeFileSync(file, `healthChecks: ${path.relative(dir, path.join(CHECKS_DIR, 'checks.js'))}\nreadiness: tag:auth\n`);
    const { health } = await start({ CHATPULSE_HEALTH_CONFIG: file });
    await waitUntil(async () => (await get(`${health}/api/v1/health/game`).catch(() => ({ status: 0 }))).status === 503, 10_000, 'game graded');
    // Readiness answers only for the `auth`-tagged check.
    expect((await get(`${health}/api/v1/health/ready`)).status).toBe(200);
  });

  it('rejects a malformed module at start naming the file and the problem; the app runs on', async () => {
    for (const [module, problem] of [
      ['bad-name.js', /checks\[0\]\.name: expected 1 to 64 of a-z/],
      ['syntax-error.mjs', /cannot be loaded: .*SyntaxError|cannot be loaded: .*Unexpected/],
      ['no-export.js', /expected the checks array as the default export/],
    ] as const) {
      const { app, health } = await start({ CHATPULSE_HEALTH_CHECKS: path.join(CHECKS_DIR, module) });
      await waitUntil(() => app.stderr().includes('health service not started'), 10_000, `the error for ${module}`);
      const line = app.stderr().split('\n').find((l) => l.includes('health service not started'))!;
      expect(line).toContain(`CHATPULSE_HEALTH_CHECKS: ${path.join(CHECKS_DIR, module)}`);
      expect(line).toMatch(problem);
      expect(await get(`${health}/api/v1/health/live`, 500).then((r) => r.status, () => 'refused')).toBe('refused');
      expect((await get(`http://127.0.0.1:${app.port}/health`)).status).toBe(200);
      app.proc.kill('SIGKILL');
    }
  });
});
