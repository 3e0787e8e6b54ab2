import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { Cluster, Redis } from 'ioredis';
import type { ProcessSampler } from '../../instrumentation/metrics/process-metrics';
import type { Recorder } from '../../instrumentation/metrics/recorder';
import { currentRuntime, globalRecorder } from '../../instrumentation/runtime';
import { createAlerting, type Alerting } from '../alerts';
import { CheckScheduler, diskCheck, postgresCheck, redisCheck, redisClusterCheck, upstreamCheck, type DependencyCheck } from '../checks';
import { resolveHealthConfig, type HealthConfig, type HealthConfigInput } from '../config/health-config';
import { createHealthRouter } from '../http/router';
import { HealthService, type DependencyResult, type DependencySource } from './health-service';
import { mountStatusPage } from '../ui';
import { createLogger } from './logger';
import { followDiscovered } from './discovered-checks';
import type { DependencyRegistry } from '../../instrumentation/discovery/registry';
import { defaultServiceName } from '../../common/service-name';
import { VERSION } from '../../common/version';
import { withPassiveUpstreams } from '../checks/passive-upstreams';
import { ChatpulseConfigError } from '../../common/errors';
import { customChecks, type HealthCheck } from '../checks/custom';
import { loadChecksModule } from '../checks/checks-module';


export interface CreateHealthOptions {
  /** Configuration input (merged over the file named by CHATPULSE_HEALTH_CONFIG; env wins). */
  readonly config?: HealthConfigInput;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The app's own pg pool, probed instead of a dedicated one. */
  readonly pgPool?: Pool;
  /** The app's own ioredis client or Redis Cluster client, probed instead of a dedicated one. */
  readonly redisClient?: Redis | Cluster;
  /** Default: OTEL_SERVICE_NAME, else `chatbot`. */
  readonly serviceName?: string;
  readonly logger?: Logger;
  /** Default: the instrumentation's recorder and sampler. */
  readonly recorder?: Recorder;
  readonly sampler?: ProcessSampler;
  /** Zero-code mode: the servers the app's own clients connect to, checked when no URL names them. */
  readonly discovered?: DependencyRegistry;
  /** The app's own checks (auth, agents, integrations), run and graded like the built-in ones. */
  readonly checks?: readonly HealthCheck[];
}

/** A running health service with everything it owns. */
export interface Health {
  readonly config: HealthConfig;
  readonly service: HealthService;
  readonly scheduler: CheckScheduler;
  readonly alerting: Alerting;
  /** The Express router with every health, metrics and alerts endpoint. */
  readonly router: Router;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Builds the dependency checks the configuration asks for (memory, CPU and event loop are KPIs). */
export function dependencyChecks(config: HealthConfig, o: CreateHealthOptions = {}): DependencyCheck[] {
  const checks: DependencyCheck[] = [];
  const db = config.database;
  if (db !== undefined || o.pgPool !== undefined) {
    checks.push(
      postgresCheck({
        ...(o.pgPool !== undefined ? { pool: o.pgPool } : { connectionString: db!.url }),
        required: db?.required ?? true,
        ...(db !== undefined ? { intervalMs: db.intervalMs, timeoutMs: db.timeoutMs } : {}),
      }),
    );
  }
  const redis = config.redis;
  if (redis !== undefined || o.redisClient !== undefined) {
    const schedule = {
      required: redis?.required ?? false,
      ...(redis !== undefined ? { intervalMs: redis.intervalMs, timeoutMs: redis.timeoutMs } : {}),
    };
    const client = o.redisClient;
    checks.push(
      // ioredis' own marker rather than instanceof: the app's ioredis may be another copy than ours.
      client?.isCluster === true
        ? redisClusterCheck({ client: client as Cluster, ...schedule })
        : client !== undefined
          ? redisCheck({ client: client as Redis, ...schedule })
          : redis!.clusterNodes !== undefined
            ? redisClusterCheck({ nodes: redis!.clusterNodes, ...schedule })
            : redisCheck({ url: redis!.url, ...schedule }),
    );
  }
  for (const u of config.upstreams) {
    checks.push(
      upstreamCheck({
        name: u.name,
        url: u.url,
        required: u.required,
        intervalMs: u.intervalMs,
        timeoutMs: u.timeoutMs,
        ...(u.expectedStatus !== undefined ? { expectedStatus: u.expectedStatus } : {}),
      }),
    );
  }
  checks.push(diskCheck({ path: config.diskPath }));
  return checks;
}

/** The scheduler's stored results, as the service reads them. */
function schedulerSource(scheduler: CheckScheduler, checks: readonly DependencyCheck[]): DependencySource {
  const required = new Map(checks.map((c) => [c.name, c.required]));
  const tags = new Map(checks.flatMap((c) => (c.tags !== undefined && c.tags.length > 0 ? [[c.name, c.tags] as const] : [])));
  return {
    results: (): DependencyResult[] =>
      scheduler.results().map((r) => {
        const t = tags.get(r.name);
        return { ...r, required: r.required ?? required.get(r.name) ?? true, ...(t !== undefined ? { tags: t } : {}) };
      }),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
}

/**
 * Creates the health service over the instrumentation's signals: KPIs graded from the sliding
 * window, dependency checks in the background, alerting, and the router that serves them.
 * Configuration is resolved here, once (resolveHealthConfig: an invalid value throws
 * ChatpulseConfigError naming it), frozen, and passed down; nothing below reads the environment.
 */
export async function createHealth(options: CreateHealthOptions = {}): Promise<Health> {
  const env = options.env ?? process.env;
  return startHealth(resolveHealthConfig(options.config ?? {}, env), { ...options, serviceName: options.serviceName ?? defaultServiceName(env) });
}

/** Starts the health service from a configuration already resolved (zero-code mode resolves it once, itself). */
export async function startHealth(config: HealthConfig, options: Omit<CreateHealthOptions, 'config' | 'env'> = {}): Promise<Health> {
  const logger = options.logger ?? createLogger(config.debug);
  const runtime = currentRuntime();
  const recorder = options.recorder ?? runtime?.recorder ?? globalRecorder();
  const sampler = options.sampler ?? runtime?.sampler;
  const checks = [...dependencyChecks(config, options)];
  // The app's own checks: given when mounted, or a module named in the configuration (zero-code).
  const builtIn = checks.map((c) => c.name);
  const given = options.checks === undefined ? [] : customChecks(options.checks, 'checks', builtIn);
  const loaded = config.healthChecks === undefined ? [] : await loadChecksModule(config.healthChecks.file, config.healthChecks.field, [...builtIn, ...given.map((c) => c.name)]);
  checks.push(...given, ...loaded);
  const unknown = (config.readiness.dependencies ?? []).filter((n) => !checks.some((c) => c.name === n));
  if (unknown.length > 0) {
    throw ChatpulseConfigError.of('readiness', `unknown check ${unknown.map((n) => JSON.stringify(n)).join(', ')} (configured checks: ${checks.map((c) => c.name).join(', ')}; or required, kpis, a KPI key, tag:<tag>)`);
  }
  const scheduler = new CheckScheduler(checks, { onError: (err, context) => logger.warn({ err, context }, 'health check error') });
  const unfollow = options.discovered !== undefined ? followDiscovered(options.discovered, config, scheduler, logger) : undefined;
  const signals = HealthService.windowSource(recorder, config, sampler);
  const service = new HealthService({
    config,
    signals,
    // Model providers the app called, graded from those calls (passive: no probe traffic), as the upstream KPIs are.
    dependencies: withPassiveUpstreams(schedulerSource(scheduler, checks), () => signals.upstreams.stats(), {
      thresholds: config.thresholds,
      minSamples: config.minSamples,
      disabled: config.disabledKpis,
    }),
  });
  const alerting = await createAlerting({
    config,
    service,
    recorder,
    dependencies: scheduler,
    logger,
    ...(config.database !== undefined ? { databaseUrl: config.database.url } : {}),
    ...(config.alertWebhookUrl !== undefined ? { webhookUrl: config.alertWebhookUrl } : {}),
    ...(config.alertIntervalMs !== undefined ? { evaluationIntervalMs: config.alertIntervalMs } : {}),
    ...(config.alertApiTimeoutMs !== undefined ? { apiTimeoutMs: config.alertApiTimeoutMs } : {}),
    ...(config.alertSpoolDir !== undefined ? { spoolDir: config.alertSpoolDir } : {}),
  });
  const serviceName = options.serviceName ?? defaultServiceName();
  const router = createHealthRouter({
    service,
    logger,
    serviceName,
    version: VERSION,
    activeAlerts: () => alerting.activeAlerts(),
    customChecks: [...given, ...loaded].map((c) => c.name),
    extend: (r, guard) => {
      alerting.extendRouter(r, guard);
      mountStatusPage(r, guard, { service, alerting, logger, serviceName, upstreams: () => signals.upstreams.stats() });
    },
  });
  service.start();
  await alerting.start();
  let closing: Promise<void> | undefined;
  return {
    config,
    service,
    scheduler,
    alerting,
    router,
    logger,
    close: () =>
      (closing ??= (async () => {
        unfollow?.();
        await alerting.stop();
        await service.close();
      })()),
  };
}
