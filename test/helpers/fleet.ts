/**
 * Instances of test/fixtures/fleet-app.js under the hook, each exporting its metrics on its own
 * port for a test Prometheus to scrape (see that fixture for its routes and knobs).
 */
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, spawnApp, type AppChild } from '../fixtures/harness';

export interface FleetInstance {
  readonly app: AppChild;
  readonly metricsPort: number;
  readonly appPort: number;
  readonly controlPort: number;
  /** `127.0.0.1:<metricsPort>`: the instance label Prometheus gives it. */
  readonly target: string;
}

export async function startFleetInstance(service: string, env: Record<string, string>): Promise<FleetInstance> {
  const metricsPort = await freePort();
  const app = await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: path.join(FIXTURES, 'fleet-app.js'),
    env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', PORT: '0', ...env },
  });
  const m = /LISTENING (\d+) CONTROL (\d+)/.exec(app.stdout())!;
  return { app, metricsPort, appPort: Number(m[1]), controlPort: Number(m[2]), target: `127.0.0.1:${metricsPort}` };
}

/** n concurrent streams; their HTTP statuses. */
export function chat(inst: FleetInstance, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => get(`http://127.0.0.1:${inst.appPort}/chat`, 15_000).then((r) => r.status)));
}
