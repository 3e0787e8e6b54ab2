/**
 * A collector that is down, resets connections, answers 503 or hangs must never hurt the app:
 * it keeps serving, nothing leaks as an unhandled rejection or crash, and it still stops on SIGTERM
 * (by the signal, as without the hook) within the shutdown bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, sleep, spawnApp, type AppChild } from '../../fixtures/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceiverMode } from '../../helpers/otlp-receiver';

const APP = path.join(FIXTURES, 'sse-app.js');
const SHUTDOWN_TIMEOUT_MS = 1000;
/** "exits within the shutdown timeout + 2 s". */
const EXIT_BOUND_MS = SHUTDOWN_TIMEOUT_MS + 2000;

const receivers: OtlpReceiver[] = [];
afterAll(async () => {
  await killAllChildren();
  await Promise.all(receivers.map((r) => r.close()));
});

async function endpoint(mode: ReceiverMode | 'closed-port'): Promise<{ url: string; receiver?: OtlpReceiver }> {
  if (mode === 'closed-port') return { url: `http://127.0.0.1:${await freePort()}` };
  const receiver = await startOtlpReceiver({ mode });
  receivers.push(receiver);
  return { url: receiver.baseUrl, receiver };
}

function env(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    CHATPULSE_SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_MS),
    TOKEN_DELAY_MS: '30',
    ...extra,
  };
}

/** Streams across several failing export cycles; every one must complete normally. */
async function serveThroughFailures(app: AppChild, streams: number): Promise<void> {
  for (let i = 0; i < streams; i++) {
    const r = await get(`http://127.0.0.1:${app.port}/chat`, 3000);
    expect(r.status).toBe(200);
    expect(r.body).toContain('data: {"token":"Hello"}');
    expect(r.body).toContain('data: [DONE]');
    await sleep(120);
  }
  const health = await get(`http://127.0.0.1:${app.port}/health`, 3000);
  expect(health.body).toBe('ok\n');
}

function expectNoCrash(app: AppChild): void {
  expect(app.stderr()).not.toContain('FIXTURE_UNHANDLED_REJECTION');
  expect(app.stderr()).not.toContain('FIXTURE_UNCAUGHT_EXCEPTION');
  expect(app.stderr()).not.toMatch(/unhandledRejection|UnhandledPromiseRejection/i);
}

describe('OTLP endpoint failures do not affect the app', () => {
  const modes: (ReceiverMode | 'closed-port')[] = ['closed-port', 'refuse', 'unavailable', 'hang'];
  for (const mode of modes) {
    it(`endpoint ${mode}: the app keeps serving, does not crash, and SIGTERM ends it within ${EXIT_BOUND_MS} ms`, async () => {
      const { url, receiver } = await endpoint(mode);
      const app = await spawnApp({ nodeArgs: ['--require', REGISTER], script: APP, env: env(url) });
      await serveThroughFailures(app, 6);
      if (receiver !== undefined) expect(receiver.arrivals.length, 'exports were attempted').toBeGreaterThan(0);
      expectNoCrash(app);
      expect(app.proc.exitCode).toBeNull();

      const t0 = Date.now();
      app.proc.kill('SIGTERM');
      const exit = await app.waitExit(EXIT_BOUND_MS);
      expect(Date.now() - t0).toBeLessThan(EXIT_BOUND_MS);
      // No app handler: the process ends by the signal, exactly as it would without the hook.
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expectNoCrash(app);
      if (receiver !== undefined) expect(receiver.exports).toEqual([]);
    });
  }

  it('hanging endpoint, app ending on its own: the exit flush is bounded by CHATPULSE_SHUTDOWN_TIMEOUT, not the OTLP timeout', async () => {
    const { url, receiver } = await endpoint('hang');
    // The exporter's own timeout (10 s) is far longer than the shutdown bound.
    const app = await spawnApp({ nodeArgs: ['--require', REGISTER], script: APP, env: env(url, { OTEL_EXPORTER_OTLP_TIMEOUT: '10000' }) });
    await serveThroughFailures(app, 2);
    const t0 = Date.now();
    await get(`http://127.0.0.1:${app.port}/quit`);
    const exit = await app.waitExit(EXIT_BOUND_MS);
    expect(Date.now() - t0).toBeLessThan(EXIT_BOUND_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(receiver!.arrivals.length).toBeGreaterThan(0);
    expectNoCrash(app);
  });
});
