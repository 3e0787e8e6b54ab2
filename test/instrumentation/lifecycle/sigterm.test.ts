/**
 * SIGTERM under the hook ends the process exactly as it would without it (by the signal when the
 * app has no handler; by the app when it has one), after a final bounded OTLP flush.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, scrape, spawnApp, type AppChild } from '../../fixtures/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverMode } from '../../helpers/otlp-receiver';

const APP = path.join(FIXTURES, 'express-sse-app.js');
const SHUTDOWN_TIMEOUT_MS = 1000;
const EXIT_BOUND_MS = SHUTDOWN_TIMEOUT_MS + 2000;

const receivers: OtlpReceiver[] = [];
async function receiver(mode: ReceiverMode = 'ok'): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver({ mode });
  receivers.push(r);
  return r;
}

afterAll(async () => {
  await killAllChildren();
  await Promise.all(receivers.map((r) => r.close()));
});

async function streams(app: AppChild, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await get(`http://127.0.0.1:${app.port}/chat/${i}`);
    expect(r.body).toContain('"token":"Hi"');
    expect(r.body).toContain('[DONE]');
  }
}

async function terminate(app: AppChild): Promise<{ exit: Awaited<AppChild['exited']>; elapsedMs: number; signalledAt: number }> {
  const signalledAt = Date.now();
  app.proc.kill('SIGTERM');
  const exit = await app.waitExit(EXIT_BOUND_MS);
  return { exit, elapsedMs: Date.now() - signalledAt, signalledAt };
}

function otlpEnv(r: OtlpReceiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: r.baseUrl,
    // Long enough that the only export in the test window is the final one.
    OTEL_METRIC_EXPORT_INTERVAL: '60000',
    CHATPULSE_SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_MS),
  };
}

function ttftCount(r: OtlpReceiver, afterMs: number): number | undefined {
  const late = r.exports.filter((e) => e.receivedAt >= afterMs);
  const last = late[late.length - 1];
  const m = last?.metrics.find((x) => x.name === 'chatbot.stream.time_to_first_token');
  return m?.points.reduce((a, p) => a + p.count!, 0);
}

describe('SIGTERM with no app handler', () => {
  it('without the hook (baseline): the process ends by SIGTERM', async () => {
    const app = await spawnApp({ script: APP });
    await streams(app, 1);
    const { exit } = await terminate(app);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('OTEL_METRICS_EXPORTER=prometheus: ends by SIGTERM, as without the hook', async () => {
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
    });
    await streams(app, 1);
    expect(await scrape(`http://localhost:${port}/metrics`)).toContain('chatbot_streams_total');
    const { exit, elapsedMs } = await terminate(app);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(elapsedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(app.stderr()).toBe('');
  });

  it('OTEL_METRICS_EXPORTER=prometheus,otlp: final export after the signal, then ends by SIGTERM', async () => {
    const r = await receiver();
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { ...otlpEnv(r), OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
    });
    await streams(app, 2);
    expect(await scrape(`http://localhost:${port}/metrics`)).toContain('chatbot_streams_total');
    const { exit, elapsedMs, signalledAt } = await terminate(app);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(elapsedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(r.exports.filter((e) => e.receivedAt >= signalledAt).length, 'an export after the signal').toBeGreaterThan(0);
    expect(ttftCount(r, signalledAt)).toBe(2);
    const final = r.exports[r.exports.length - 1]!;
    const ttft = final.metrics.find((m) => m.name === 'chatbot.stream.time_to_first_token')!;
    expect(ttft.points[0]!.attributes['http.route']).toBe('/chat/:id');
    expect(app.stderr()).toBe('');
  });

  it(`OTLP endpoint hangs: SIGTERM still ends the process within CHATPULSE_SHUTDOWN_TIMEOUT (${SHUTDOWN_TIMEOUT_MS} ms) + margin`, async () => {
    const r = await receiver('hang');
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      // The exporter's own timeout is far longer: only the shutdown bound can end the flush.
      env: { ...otlpEnv(r), OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TIMEOUT: '30000' },
    });
    await streams(app, 1);
    const { exit, elapsedMs, signalledAt } = await terminate(app);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(elapsedMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 1500);
    // The flush was attempted (and hung) after the signal.
    expect(r.arrivals.some((a) => a.receivedAt >= signalledAt)).toBe(true);
  });
});

describe('SIGTERM with the app’s own handler that closes its server', () => {
  it('prometheus,otlp: exits with code 0, flushes, and our handles do not keep it alive', async () => {
    const r = await receiver();
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { ...otlpEnv(r), OWN_SIGTERM: '1', OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
    });
    await streams(app, 3);
    expect(await scrape(`http://localhost:${port}/metrics`)).toContain('chatbot_streams_total');
    const { exit, elapsedMs, signalledAt } = await terminate(app);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(app.stdout()).toContain('APP_SIGTERM');
    expect(app.stdout()).toContain('APP_CLOSED');
    expect(ttftCount(r, signalledAt)).toBe(3);
  });

  it('without the hook (baseline): exits with code 0', async () => {
    const app = await spawnApp({ script: APP, env: { OWN_SIGTERM: '1' } });
    await streams(app, 1);
    const { exit } = await terminate(app);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('OTLP endpoint hangs: the app still exits (code 0) within CHATPULSE_SHUTDOWN_TIMEOUT + margin', async () => {
    const r = await receiver('hang');
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { ...otlpEnv(r), OWN_SIGTERM: '1', OTEL_METRICS_EXPORTER: 'otlp' },
    });
    await streams(app, 1);
    const { exit, elapsedMs } = await terminate(app);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsedMs).toBeLessThan(EXIT_BOUND_MS);
    expect(r.arrivals.length).toBeGreaterThan(0);
  });
});
