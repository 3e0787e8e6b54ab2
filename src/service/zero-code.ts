import type { ShutdownSteps } from '../../instrumentation/lifecycle/exit-flush';
import { log } from '../../instrumentation/log';
import { globalDependencies } from '../../instrumentation/discovery/registry';
import type { Runtime } from '../../instrumentation/runtime';
import { resolveHealthConfig } from '../config/health-config';
import { listenHealthServer, type HealthServer } from '../http/server';
import { defaultServiceName } from '../../common/service-name';
import { startHealth, type Health } from './create-health';
import { drainStreams } from './drain';
import { metricsEndpointCheck } from './metrics-endpoint-check';

/**
 * Zero-code mode: with CHATPULSE_HEALTH_PORT set, the `--require` hook serves the health
 * endpoints on that port inside the app. An invalid configuration is reported (naming the field)
 * and the health service is not started; the app itself is never affected.
 * Returns the shutdown steps: readiness 503 at once, then open streams drain for a bounded time.
 */
export function startZeroCodeHealth(runtime: Runtime, env = process.env): ShutdownSteps | undefined {
  let config;
  try {
    config = resolveHealthConfig({}, env);
  } catch (err) {
    log.warn(`health service not started: ${(err as Error).message}`);
    return undefined;
  }
  if (config.port === undefined) return undefined;
  let health: Health | undefined;
  let server: HealthServer | undefined;
  let shuttingDown = false;
  const ready = (async () => {
    // The configuration resolved above is the one used: it is not read a second time.
    health = await startHealth(config, {
      serviceName: defaultServiceName(env),
      ...(runtime.config.discoverDependencies ? { discovered: globalDependencies() } : {}),
    });
    if (shuttingDown) health.service.beginShutdown();
    if (runtime.prometheusStatus() !== undefined) health.scheduler.add(metricsEndpointCheck(() => runtime.prometheusStatus()));
    try {
      server = await listenHealthServer(health.router, config.port!, config.host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message;
      log.warn(`health endpoints could not listen on ${config.host}:${config.port} (${code}); set CHATPULSE_HEALTH_PORT to a free port`);
      // Nothing serves it: its checks and alerting stop rather than run unseen.
      await health.close();
      health = undefined;
      return;
    }
    health.logger.info({ port: server.address.port, host: config.host }, 'chatpulse health endpoints listening');
  })().catch((err: unknown) => {
    log.warn(`health service not started: ${(err as Error)?.message ?? String(err)}`);
  });
  return {
    begin: () => {
      shuttingDown = true;
      health?.service.beginShutdown();
    },
    drain: async () => {
      const { drained, open } = await drainStreams(runtime.recorder, config.drainTimeoutMs);
      if (!drained) health?.logger.warn({ open, drainTimeoutMs: config.drainTimeoutMs }, 'streams still open at the end of the drain');
      await ready;
      await server?.close();
      await health?.close();
    },
  };
}
