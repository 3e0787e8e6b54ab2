import { parseArgs } from 'node:util';
import { ChatpulseConfigError } from '../../common/errors';
import { resolveHealthConfig, type HealthConfig } from '../config/health-config';
import { FLEET_READINESS, PrometheusFleet } from '../fleet/fleet-health';
import { PrometheusSignalSource } from '../fleet/prometheus-source';
import { createHealthRouter } from '../http/router';
import { listenHealthServer, type HealthServer } from '../http/server';
import { HealthService } from '../service/health-service';
import { createLogger } from '../service/logger';
import { mountStatusPage, type StatusPage } from '../ui';
import { durationFlag, formatMs, packageVersion, portFlag, UsageError, urlFlag, usageErrorOf, type Io } from './args';

export const SERVE_HELP = `Usage: chatpulse serve --prometheus-url URL [options]

Fleet mode: grades every instance of a service together, from the metrics Prometheus scrapes off
each one (\`node --require chatpulse/register app.js\`), and serves the same health endpoints as
the in-process health server (/api/v1/health, /api/metrics/health/streaming, /health, …) and
the live status page (/api/v1/health/ui), each with every instance graded on its own.

Options:
  --prometheus-url URL  Prometheus base URL, e.g. http://prometheus:9090 (required)
  --service NAME        service_name label (OTEL_SERVICE_NAME) of the fleet; default: every service
  --port N              Port to serve on (default: the config's port, else 9465; 0 = any free port)
  --host H              Address to bind (default: the config's host, else 0.0.0.0)
  --window D            Window of every rate and percentile (default: the config's window, else 5m)
  --config FILE         Health config (YAML or JSON): thresholds, minSamples, hysteresis,
                        evaluationInterval, token, rateLimits (same as CHATPULSE_HEALTH_CONFIG;
                        CHATPULSE_* environment variables still apply on top)
  --token T             Bearer token the endpoints require (default: the config's token)
  -h, --help            Show this help

Besides the KPIs, two required checks make the report unhealthy when the numbers cannot be
trusted: "prometheus" (the queries failed) and "instances" (no instance of the service reports).
Dependency checks (database, redis, upstreams) are not run in fleet mode.

/api/v1/health/ready answers for this server, not for the fleet: 503 only while Prometheus
cannot be queried or the server shuts down (the fleet's grade is /api/v1/health).
SIGTERM or SIGINT: readiness turns 503, the server closes, exit 0.`;

export interface ServeHandle {
  readonly server: HealthServer;
  readonly service: HealthService;
  /** Resolves with the exit code once the server has shut down. */
  readonly done: Promise<number>;
  shutdown(reason: string): Promise<void>;
}

interface ServeOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Install SIGTERM/SIGINT handlers (default true). */
  readonly signals?: boolean;
}

function serveFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        'prometheus-url': { type: 'string' },
        service: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        window: { type: 'string' },
        config: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw usageErrorOf(err);
  }
}

/** Parses and validates everything before anything starts; UsageError/ChatpulseConfigError on bad input. */
export function serveConfig(argv: readonly string[], env: NodeJS.ProcessEnv) {
  const { values } = serveFlags(argv);
  if (values.help) return { help: true as const };
  if (values['prometheus-url'] === undefined) throw new UsageError('--prometheus-url is required (e.g. --prometheus-url http://prometheus:9090)');
  const prometheusUrl = urlFlag('--prometheus-url', values['prometheus-url']).href;
  if (values.service !== undefined && values.service.trim() === '') throw new UsageError('--service: must not be empty (omit it for every service)');
  if (values.token !== undefined && values.token === '') throw new UsageError('--token: must not be empty');
  if (values.host !== undefined && values.host.trim() === '') throw new UsageError('--host: must not be empty');
  const port = values.port === undefined ? undefined : portFlag('--port', values.port);
  const windowMs = values.window === undefined ? undefined : durationFlag('--window', values.window, 1000);
  const base = resolveHealthConfig({}, values.config === undefined ? env : { ...env, CHATPULSE_HEALTH_CONFIG: values.config });
  const config: HealthConfig = Object.freeze({
    ...base,
    port: port ?? base.port ?? 9465,
    host: values.host ?? base.host,
    windowMs: windowMs ?? base.windowMs,
    token: values.token ?? base.token,
  });
  return { help: false as const, config, prometheusUrl, service: values.service?.trim() };
}

/** Starts fleet mode. Rejects only when the server cannot listen. */
export async function startServe(
  config: HealthConfig,
  prometheusUrl: string,
  service: string | undefined,
  io: Io,
  options: ServeOptions = {},
): Promise<ServeHandle> {
  const logger = createLogger(config.debug);
  const source = new PrometheusSignalSource({
    url: prometheusUrl,
    service,
    windowMs: config.windowMs,
    // A snapshot must be done before the next evaluation is due.
    timeoutMs: Math.min(10_000, Math.max(1_000, config.evaluationIntervalMs)),
  });
  const fleet = new PrometheusFleet(source, logger);
  if (config.database !== undefined || config.redis !== undefined || config.upstreams.length > 0) {
    logger.warn('database, redis and upstream checks in the health config are not run in fleet mode');
  }
  const health = new HealthService({ config, signals: fleet, dependencies: fleet, readiness: FLEET_READINESS });
  health.start();
  // The first report exists before the first request (the fleet source never rejects).
  await health.evaluate();
  const serviceName = service ?? 'chatpulse-fleet';
  let page: StatusPage | undefined;
  const router = createHealthRouter({
    service: health,
    logger,
    serviceName,
    version: packageVersion(),
    // The live status page, with the fleet's instances table (no alerting in fleet mode).
    extend: (r, guard) => (page = mountStatusPage(r, guard, { service: health, logger, serviceName })),
  });
  let server: HealthServer;
  try {
    server = await listenHealthServer(router, config.port ?? 9465, config.host);
  } catch (err) {
    await health.close();
    throw err;
  }
  // listenHealthServer unrefs its server (it normally lives inside the app): here it is the app.
  server.server.ref();
  const where = `http://${server.address.family === 'IPv6' ? `[${server.address.address}]` : server.address.address}:${server.address.port}`;
  const fleetName = service === undefined ? 'every service' : `service_name=${JSON.stringify(service)}`;
  io.out(`chatpulse serve: listening on ${where} (fleet ${fleetName} from Prometheus ${source.url}, window ${formatMs(config.windowMs)})`);
  logger.info({ listen: where, prometheus: source.url, service: service ?? null, windowMs: config.windowMs }, 'fleet health serving');

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal);
  const shutdown = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ reason }, 'fleet health shutting down');
      health.beginShutdown();
      page?.close();
      await server.close();
      await health.close();
      if (options.signals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      resolveDone(0);
    })());
  if (options.signals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { server, service: health, done, shutdown };
}

/** `chatpulse serve …`: resolves with the exit code after shutdown. */
export async function runServe(argv: readonly string[], io: Io, options: ServeOptions = {}): Promise<number> {
  let parsed: ReturnType<typeof serveConfig>;
  try {
    parsed = serveConfig(argv, options.env ?? process.env);
  } catch (err) {
    if (err instanceof ChatpulseConfigError) throw new UsageError(`invalid configuration: ${err.message}`);
    throw err;
  }
  if (parsed.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  let handle: ServeHandle;
  try {
    handle = await startServe(parsed.config, parsed.prometheusUrl, parsed.service, io, options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.err(`chatpulse serve: cannot listen on ${parsed.config.host}:${parsed.config.port}: ${e.code ?? e.message}`);
    return 1;
  }
  return handle.done;
}
