/**
 * Fleet mode runs for months: hundreds of evaluations against a REAL Prometheus (scraping one
 * instance under the hook) through a fault proxy that makes it healthy, slow, slower than the
 * timeout, resetting connections and down, in turns. No process warning may appear (the
 * MaxListenersExceededWarning of a shared AbortSignal appeared at every evaluation before
 * RequestGroup), the listeners on the pooled sockets stay bounded, no query is left in flight,
 * and the heap after a forced collection does not grow with the number of evaluations.
 */
import type { Agent } from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { PrometheusFleet } from '../../../src/fleet/fleet-health';
import { PrometheusSignalSource } from '../../../src/fleet/prometheus-source';
import { HealthService } from '../../../src/service/health-service';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, sleep, spawnApp } from '../../fixtures/harness';
import { FaultProxy, type FaultMode } from '../../helpers/fault-proxy';
import { startPrometheus, type TestPrometheus } from '../../helpers/prometheus';
import { ensureBuilt } from '../cli/cli-helpers';

const SERVICE = 'soak-test';
const TIMEOUT_MS = 250;

let prom: TestPrometheus;
let proxy: FaultProxy;

beforeAll(async () => {
  ensureBuilt();
  const metricsPort = await freePort();
  await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: path.join(FIXTURES, 'fleet-app.js'),
    env: { OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', PORT: '0' },
  });
  prom = await startPrometheus({ targets: [`127.0.0.1:${metricsPort}`], scrapeInterval: '200ms' });
  const deadline = Date.now() + 15_000;
  while ((await prom.query(`process_memory_utilization{service_name="${SERVICE}"}`)).length === 0) {
    if (Date.now() > deadline) throw new Error(`the instance was never scraped\n${prom.log()}`);
    await sleep(100);
  }
  proxy = await new FaultProxy(prom.port).start();
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await killAllChildren();
  await prom?.stop();
});

/** Listeners on every pooled socket, summed over events. */
function socketListeners(agent: Agent): number[] {
  const all = [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)].flat();
  return all.map((s) => s!.eventNames().reduce((n, e) => n + s!.listenerCount(e), 0));
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('hundreds of fleet evaluations: healthy, slow, timing out, failing', () => {
  it('emit no warning, keep socket listeners bounded, leave nothing in flight, and do not grow the heap', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const config = resolveHealthConfig({ window: '1m', evaluationInterval: '5s', hysteresis: 1 }, {});
    const source = new PrometheusSignalSource({ url: `http://127.0.0.1:${proxy.port}`, service: SERVICE, windowMs: 60_000, timeoutMs: TIMEOUT_MS });
    const fleet = new PrometheusFleet(source);
    const health = new HealthService({ config, signals: fleet, dependencies: fleet, autoEvaluate: false });
    const agent = (source as unknown as { httpAgent: Agent }).httpAgent;
    const inFlight = (source as unknown as { inFlight: Set<unknown> }).inFlight;

    // One round: every behaviour, each for a few evaluations.
    const round: [FaultMode, number, 'pass' | 'fail'][] = [
      ['pass', 0, 'pass'],
      ['slow', 20, 'pass'], // slower, within the timeout
      ['slow', TIMEOUT_MS + 100, 'fail'], // the timeout aborts the snapshot's queries
      ['reset', 0, 'fail'],
      ['down', 0, 'fail'],
    ];
    const perMode = 4;
    const seen = { pass: 0, fail: 0 };
    const listeners: number[] = [];
    let evaluations = 0;
    let heapAfterWarmup = 0;
    const rounds = 16; // 16 × 5 × 4 = 320 evaluations
    try {
      for (let r = 0; r < rounds; r++) {
        for (const [mode, delay, expected] of round) {
          await proxy.set(mode, delay);
          for (let i = 0; i < perMode; i++) {
            await health.evaluate();
            evaluations++;
            const prometheus = health.report().dependencies.find((d) => d.name === 'prometheus')!;
            expect(prometheus.status, `${mode} ${delay} ms: ${prometheus.message ?? ''}`).toBe(expected);
            seen[expected]++;
            expect(inFlight.size).toBe(0);
            listeners.push(...socketListeners(agent));
          }
        }
        if (r === 1) heapAfterWarmup = heapAfterGc();
      }
      // Aborted requests finish closing on the next turns; then nothing may remain.
      await sleep(50);
      const heapAtEnd = heapAfterGc();

      expect(evaluations).toBe(320);
      expect(seen).toEqual({ pass: 128, fail: 192 });
      expect(warnings).toEqual([]);
      // A keep-alive socket carries a fixed handful of listeners between requests; a pile-up
      // would grow with the requests it served (~25 per evaluation).
      expect(listeners.length).toBeGreaterThan(0);
      expect(Math.max(...listeners)).toBeLessThanOrEqual(20);
      // 280 evaluations after the warm-up: a leak of even 1 KB each would show.
      expect(heapAtEnd - heapAfterWarmup).toBeLessThan(1.5 * 1024 * 1024);
    } finally {
      process.off('warning', onWarning);
      await health.close();
    }
    // The source still answers after all that (its pool was not poisoned by the faults).
    await proxy.set('pass', 0);
    const again = new PrometheusSignalSource({ url: `http://127.0.0.1:${proxy.port}`, service: SERVICE, windowMs: 60_000, timeoutMs: 2000 });
    expect((await again.snapshot()).instances).toBe(1);
    again.close();
    expect((await get(`${prom.url}/-/healthy`)).status).toBe(200);
  }, 120_000);
});
