/**
 * The zero-code entry point: `node --require chatpulse/register app.js` (or `--import`).
 * Reads the environment once, warns about bad values (naming the variable and the default used),
 * and starts the instrumentation. Nothing here may throw into the host application.
 */
import { describeProblem, resolveConfig } from './config/env';
import { flushOnExit } from './lifecycle/exit-flush';
import { log } from './log';
import { startRuntime } from './runtime';

try {
  const { config, problems } = resolveConfig(process.env);
  for (const p of problems) log.warn(describeProblem(p));
  if (config.disabled) {
    log.debug('OTEL_SDK_DISABLED=true: instrumentation not started');
  } else {
    const runtime = startRuntime(config);
    // The health service (and its dependencies: express, pino, pg) loads only when asked for.
    const health = process.env.CHATPULSE_HEALTH_PORT
      ? (require('../src/service/zero-code') as typeof import('../src/service/zero-code')).startZeroCodeHealth(runtime)
      : undefined;
    if (health !== undefined || config.exporters.some((e) => e !== 'prometheus')) flushOnExit(runtime, health);
    void runtime.prometheusAddress.then((addr) => {
      if (addr !== undefined) log.debug(`Prometheus metrics at http://${addr.address}:${addr.port}/metrics`);
    });
  }
} catch (err) {
  log.warn(`instrumentation not started: ${(err as Error)?.stack ?? String(err)}`);
}
