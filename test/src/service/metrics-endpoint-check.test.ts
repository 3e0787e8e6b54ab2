/**
 * Port conflicts of Chatpulse's own endpoints, in an app under the hook: a port held by another
 * process gets a warning that names the variable to set, the app keeps serving, and the health
 * endpoint (when it is up) reports the metrics endpoint's state.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, scrape, spawnApp, waitUntil } from '../../fixtures/harness';

const APP = path.join(FIXTURES, 'sse-app.js');
const held: net.Server[] = [];

afterAll(async () => {
  await killAllChildren();
  for (const s of held) s.close();
});

/** A port held by someone else, as on a host where 9464 is already taken. */
async function heldPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  held.push(s);
  return (s.address() as net.AddressInfo).port;
}

interface Check {
  status: string;
  message?: string;
}
async function metricsCheck(health: string): Promise<Check | undefined> {
  const r = await get(`${health}/api/v1/health`).catch(() => undefined);
  if (r === undefined || r.body === '') return undefined;
  return (JSON.parse(r.body) as { services: { system: { checks: Record<string, Check> } } }).services.system.checks['system:metrics-endpoint'];
}

async function start(metricsPort: number, healthPort: number) {
  return spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: APP,
    env: {
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      CHATPULSE_HEALTH_PORT: String(healthPort),
      CHATPULSE_HEALTH_HOST: '127.0.0.1',
      CHATPULSE_HEALTH_RATE_LIMITS: 'off',
      CHATPULSE_DISCOVER_DEPENDENCIES: 'false',
    },
  });
}

describe('port conflicts of Chatpulse’s own endpoints', () => {
  it('metrics port taken: the warning names OTEL_EXPORTER_PROMETHEUS_PORT and the health endpoint reports it', async () => {
    const [metricsPort, healthPort] = [await heldPort(), await freePort()];
    const app = await start(metricsPort, healthPort);
    const health = `http://127.0.0.1:${healthPort}`;
    await waitUntil(async () => (await metricsCheck(health))?.status === 'warn', 10_000, 'the metrics endpoint check');
    expect((await metricsCheck(health))?.message).toMatch(new RegExp(`could not listen on 127\\.0\\.0\\.1:${metricsPort} \\(EADDRINUSE\\).*set OTEL_EXPORTER_PROMETHEUS_PORT`));
    expect(app.stderr()).toMatch(new RegExp(`Prometheus endpoint could not listen on 127\\.0\\.0\\.1:${metricsPort} \\(EADDRINUSE\\).*Set OTEL_EXPORTER_PROMETHEUS_PORT to a free port`));
    expect((await get(`http://127.0.0.1:${app.port}/chat`)).body).toContain('[DONE]');
  }, 30_000);

  it('metrics port free: the check passes and names where metrics are', async () => {
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    await start(metricsPort, healthPort);
    const health = `http://127.0.0.1:${healthPort}`;
    await waitUntil(async () => (await metricsCheck(health))?.status === 'pass', 10_000, 'the metrics endpoint check');
    expect(await scrape(`http://127.0.0.1:${metricsPort}/metrics`)).toContain('# TYPE');
  }, 30_000);

  it('health port taken: the warning names CHATPULSE_HEALTH_PORT and the app keeps serving', async () => {
    const [metricsPort, healthPort] = [await freePort(), await heldPort()];
    const app = await start(metricsPort, healthPort);
    await app.waitStdout('LISTENING', 5000);
    await waitUntil(() => /health endpoints could not listen/.test(app.stderr()), 10_000, 'the warning');
    expect(app.stderr()).toMatch(new RegExp(`health endpoints could not listen on 127\\.0\\.0\\.1:${healthPort} \\(EADDRINUSE\\); set CHATPULSE_HEALTH_PORT to a free port`));
    expect((await get(`http://127.0.0.1:${app.port}/chat`)).body).toContain('[DONE]');
  }, 30_000);
});
