import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { badRequest, HttpError } from '../../common/errors';
import type { CheckResult } from '../checks/types';
import type { HealthConfig } from '../config/health-config';
import type { KpiResult } from '../grading/grade';
import type { DependencyResult, HealthReport, HealthService, HealthStatus } from '../service/health-service';
import { bearerAuth } from './auth';
import {
  HEALTH_JSON,
  formatUptime,
  latencyMs,
  percent,
  checkObject,
  statusOfChecks,
  toHealthJson,
} from './formats';
import { rateLimit } from './rate-limit';
import { requestId } from './request-id';

export interface HealthRouterOptions {
  readonly service: HealthService;
  readonly logger: Logger;
  /** service.name, shown as serviceId. */
  readonly serviceName: string;
  readonly version: string;
  /** Active alerts for the dashboard (the alerts module plugs in here). */
  readonly activeAlerts?: () => readonly { severity: string }[];
  /** Extra authenticated routes mounted on the same router (alerts API, status page). */
  readonly extend?: (router: Router, guard: (path: string) => RequestHandler[]) => void;
}


const SERVICES = ['database', 'redis', 'streaming', 'system', 'integrations', 'quick'] as const;
type ServiceFilter = (typeof SERVICES)[number];

/** Validates a query parameter against allowed values; a typo gets a 400 naming it. */
function queryEnum<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw badRequest(`invalid query parameter ${name}=${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function queryBool(req: Request, name: string): boolean {
  return queryEnum(req, name, ['true', 'false', '1', '0'] as const) === 'true' || req.query[name] === '1';
}

function queryInt(req: Request, name: string, fallback: number, min: number, max: number): number {
  const v = req.query[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`invalid query parameter ${name}=${JSON.stringify(v)}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

function wantsHealthJson(req: Request): boolean {
  return (req.get('accept') ?? '').includes(HEALTH_JSON);
}

const NO_STORE = 'no-store';
const FRESH = 'private, max-age=0, must-revalidate';

/**
 * The health endpoints. Every handler reads stored results (the last KPI
 * evaluation, the last dependency checks): no request waits on a measurement.
 */
export function createHealthRouter(o: HealthRouterOptions): Router {
  const { service, logger } = o;
  const config: HealthConfig = service.config;
  const router = express.Router();
  const auth = bearerAuth(config.token);
  const guard = (path: string, isPublic = false): RequestHandler[] => {
    const chain: RequestHandler[] = [];
    const limit = config.rateLimits[path];
    if (limit !== undefined) chain.push(rateLimit(path, limit));
    if (!isPublic) chain.push(auth);
    return chain;
  };
  const meta = (details = false) => ({ serviceId: o.serviceName, version: o.version, details });

  router.use(requestId);
  router.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const line = { requestId: res.locals.requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 };
      if (res.statusCode >= 400) logger.info(line, 'health request');
      else logger.debug(line, 'health request');
    });
    next();
  });

  // Plain res.end: Express's send() would hash every body for an ETag, which a polled probe pays
  // thousands of times a second and no health client uses (responses are fresh or no-store).
  const send = (res: Response, httpStatus: number, body: unknown, cache = FRESH, type = 'application/json; charset=utf-8') => {
    res.statusCode = httpStatus;
    res.setHeader('Cache-Control', cache);
    res.setHeader('Content-Type', type);
    res.end(JSON.stringify(body));
  };
  const sendJson = (res: Response, httpStatus: number, body: Record<string, unknown>, cache = FRESH) => {
    send(res, httpStatus, { ...body, requestId: res.locals.requestId }, cache);
  };
  const codeFor = (s: HealthStatus) => (s === 'unhealthy' ? 503 : 200);
  const sendHealth = (req: Request, res: Response, status: HealthStatus, checks: readonly CheckResult[], body: Record<string, unknown>, issues?: readonly string[], details = false) => {
    if (wantsHealthJson(req)) send(res, codeFor(status), toHealthJson(status, checks, { ...meta(details), issues }), FRESH, `${HEALTH_JSON}; charset=utf-8`);
    else sendJson(res, codeFor(status), body);
  };

  const depsOf = (r: HealthReport, component: string) => r.dependencies.filter((d) => d.component === component);
  const depStatus = (deps: readonly DependencyResult[]) => statusOfChecks(deps, (c) => (c as DependencyResult).required);
  const depBody = (d: DependencyResult, details: boolean) => ({
    status: d.status,
    required: d.required,
    ...(d.value !== undefined ? { value: d.value, unit: d.unit } : {}),
    ...(d.message !== undefined ? { message: d.message } : {}),
    checkedAt: d.time,
    durationMs: d.durationMs,
    ...(details && d.details !== undefined ? { details: d.details } : {}),
  });
  const kpisOf = (r: HealthReport, components: string[]) => r.kpis.filter((k) => components.includes(k.component));
  const kpiBody = (ks: readonly KpiResult[]) => Object.fromEntries(ks.map((k) => [k.name, checkObject(k)]));

  // Basic status: public, for load balancers and uptime monitors.
  router.get('/health', ...guard('/health', true), (req, res) => {
    const r = service.report();
    sendHealth(req, res, r.status, [], { status: r.status, timestamp: r.timestamp });
  });

  router.get('/api/v1/health/live', (req, res) => {
    // Liveness never depends on dependencies or KPIs: the process answering is the signal.
    if (wantsHealthJson(req)) send(res, 200, { status: 'pass', version: '1', releaseId: o.version, serviceId: o.serviceName }, NO_STORE, `${HEALTH_JSON}; charset=utf-8`);
    else sendJson(res, 200, { status: 'alive', timestamp: new Date().toISOString(), uptime: Math.floor((Date.now() - service.startedAt) / 1000) }, NO_STORE);
  });

  router.get('/api/v1/health/ready', (req, res) => {
    const r = service.ready();
    if (wantsHealthJson(req)) {
      send(res, r.ready ? 200 : 503, { status: r.ready ? (r.status === 'degraded' ? 'warn' : 'pass') : 'fail', ...(r.reason ? { output: r.reason } : {}), serviceId: o.serviceName }, NO_STORE, `${HEALTH_JSON}; charset=utf-8`);
    } else {
      sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', health: r.status, ...(r.reason ? { reason: r.reason } : {}), timestamp: new Date().toISOString() }, NO_STORE);
    }
  });

  router.get('/api/v1/health', ...guard('/api/v1/health'), (req, res) => {
    const filter: ServiceFilter | undefined = queryEnum(req, 'service', SERVICES);
    const r = service.report();
    if (filter === 'quick') return sendHealth(req, res, r.status, [], { status: r.status, timestamp: r.timestamp });
    const sections: Record<string, { status: HealthStatus; checks: readonly CheckResult[]; body: unknown }> = {};
    const streamingKpis = kpisOf(r, ['streaming', 'cache']);
    sections.streaming = { status: statusOfChecks(streamingKpis), checks: streamingKpis, body: kpiBody(streamingKpis) };
    const systemChecks = [...kpisOf(r, ['system']), ...depsOf(r, 'system')];
    sections.system = { status: statusOfChecks(systemChecks), checks: systemChecks, body: Object.fromEntries(systemChecks.map((c) => [c.name, checkObject(c)])) };
    for (const comp of ['database', 'redis', 'integrations'] as const) {
      const ds = depsOf(r, comp);
      if (ds.length > 0 || filter === comp) {
        sections[comp] = { status: depStatus(ds), checks: ds, body: Object.fromEntries(ds.map((d) => [d.name, depBody(d, false)])) };
      }
    }
    if (filter !== undefined) {
      const s = sections[filter]!;
      return sendHealth(req, res, s.status, s.checks, { service: filter, status: s.status, timestamp: r.timestamp, checks: s.body }, r.issues);
    }
    const mem = process.memoryUsage();
    sendHealth(req, res, r.status, [...r.kpis, ...r.dependencies], {
      status: r.status,
      timestamp: r.timestamp,
      uptime: r.uptimeSeconds,
      version: o.version,
      service: o.serviceName,
      services: Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, { status: s.status, checks: s.body }])),
      issues: r.issues,
      metrics: { uptime: r.uptimeSeconds, memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal }, evaluatedAt: r.evaluatedAt },
    }, r.issues);
  });

  router.get('/api/v1/health/deep', ...guard('/api/v1/health/deep'), (req, res) => {
    const r = service.report();
    sendHealth(req, res, r.status, [...r.kpis, ...r.dependencies], {
      status: r.status,
      timestamp: r.timestamp,
      evaluatedAt: r.evaluatedAt,
      uptime: r.uptimeSeconds,
      version: o.version,
      service: o.serviceName,
      shuttingDown: r.shuttingDown,
      kpis: r.kpis,
      dependencies: r.dependencies.map((d) => ({ name: d.name, component: d.component, ...depBody(d, true) })),
      window: r.snapshot,
      issues: r.issues,
    }, r.issues, true);
  });

  for (const comp of ['database', 'redis'] as const) {
    router.get(`/api/v1/health/${comp}`, ...guard(`/api/v1/health/${comp}`), (req, res) => {
      const details = queryBool(req, 'details');
      const r = service.report();
      const ds = depsOf(r, comp);
      if (ds.length === 0) {
        return sendJson(res, 404, { error: `no ${comp} check configured (set ${comp === 'database' ? 'DATABASE_URL' : 'REDIS_URL or REDIS_CLUSTER_NODES'})` });
      }
      const status = depStatus(ds);
      const d = ds[0]!;
      sendHealth(req, res, status, ds, {
        service: comp,
        ...depBody(d, details),
        status,
        timestamp: r.timestamp,
        metrics: { responseTime: d.value ?? null },
      }, undefined, details);
    });
  }

  router.get('/api/v1/health/integrations', ...guard('/api/v1/health/integrations'), (req, res) => {
    const details = queryBool(req, 'details');
    const r = service.report();
    const ds = depsOf(r, 'integrations');
    const status = depStatus(ds);
    sendHealth(req, res, status, ds, {
      status,
      timestamp: r.timestamp,
      integrations: Object.fromEntries(ds.map((d) => [d.name, depBody(d, details)])),
      summary: { total: ds.length, passing: ds.filter((d) => d.status === 'pass').length, failing: ds.filter((d) => d.status === 'fail').length },
    }, undefined, details);
  });

  const dashboard = (_req: Request, res: Response) => {
    const r = service.report();
    const alerts = o.activeAlerts?.() ?? [];
    const sections = ['streaming', 'cache', 'system', 'database', 'redis', 'integrations'].map((comp) => {
      const cs: CheckResult[] = [...r.kpis.filter((k) => k.component === comp), ...depsOf(r, comp)];
      return [comp, cs] as const;
    }).filter(([, cs]) => cs.length > 0);
    const statuses = sections.map(([, cs]) => statusOfChecks(cs, (c) => (c as DependencyResult).required ?? true));
    const s = r.snapshot;
    sendJson(res, 200, {
      dashboard: 'chatpulse',
      status: r.status,
      timestamp: r.timestamp,
      overview: {
        systemStatus: r.status,
        uptime: r.uptimeSeconds,
        activeAlerts: alerts.length,
        activeStreams: s.activeStreams,
        services: {
          total: sections.length,
          healthy: statuses.filter((x) => x === 'healthy').length,
          degraded: statuses.filter((x) => x === 'degraded').length,
          unhealthy: statuses.filter((x) => x === 'unhealthy').length,
        },
      },
      services: Object.fromEntries(sections.map(([comp, cs], i) => [comp, { status: statuses[i], checks: Object.fromEntries(cs.map((c) => [c.name, checkObject(c)])) }])),
      performance: {
        windowSeconds: s.windowSeconds,
        firstTokenMs: latencyMs(s.timeToFirstToken),
        firstAudioMs: latencyMs(s.timeToFirstAudio),
        completeMs: latencyMs(s.completeResponse),
      },
      usage: { requests: s.requests, streams: s.streams, caches: s.caches, errors: s.errors },
      monitoring: {
        alerts,
        summary: { total: alerts.length, critical: alerts.filter((a) => a.severity === 'critical').length, warning: alerts.filter((a) => a.severity === 'warning').length },
      },
    });
  };
  router.get('/api/v1/health/dashboard', ...guard('/api/v1/health/dashboard'), dashboard);

  const summary = (_req: Request, res: Response) => {
    const r = service.report();
    const s = r.snapshot;
    sendJson(res, 200, {
      status: r.status,
      timestamp: r.timestamp,
      uptime: formatUptime(r.uptimeSeconds),
      activeStreams: s.activeStreams,
      successRate: percent(s.streams.completed, s.streams.completed + s.streams.failed),
      firstTokenP95Ms: latencyMs(s.timeToFirstToken).p95,
      issues: r.issues.length,
      activeAlerts: o.activeAlerts?.().length ?? 0,
    }, 'private, max-age=10');
  };
  router.get('/api/v1/health/dashboard/summary', ...guard('/api/v1/health/dashboard/summary'), summary);
  router.get('/dashboard/summary', ...guard('/api/v1/health/dashboard/summary'), summary);

  router.get('/api/metrics/health/streaming', ...guard('/api/metrics/health/streaming'), (req, res) => {
    const r = service.report();
    const checks: Record<string, unknown> = kpiBody(r.kpis);
    for (const d of r.dependencies) checks[d.name] = { status: d.status, value: d.status === 'fail' ? 'disconnected' : 'connected', ...(d.message ? { message: d.message } : {}) };
    if (wantsHealthJson(req)) return sendHealth(req, res, r.status, [...r.kpis, ...r.dependencies], {}, r.issues);
    sendJson(res, 200, { success: true, status: r.status, timestamp: r.timestamp, checks, issues: r.issues });
  });

  router.get('/api/metrics/streaming', ...guard('/api/metrics/streaming'), (_req, res) => {
    const r = service.report();
    const s = r.snapshot;
    const finished = s.streams.completed + s.streams.failed + s.streams.aborted;
    const totalErrors = Object.values(s.errors).reduce((a, b) => a + b, 0);
    sendJson(res, 200, {
      success: true,
      timestamp: r.timestamp,
      metrics: {
        windowSeconds: s.windowSeconds,
        uptime: r.uptimeSeconds,
        uptimeFormatted: formatUptime(r.uptimeSeconds),
        requests: {
          total: s.requests.total,
          successful: s.requests.total - s.requests.serverErrors,
          failed: s.requests.serverErrors,
          active: s.activeStreams,
          successRate: percent(s.requests.total - s.requests.serverErrors, s.requests.total),
        },
        latency: { firstToken: latencyMs(s.timeToFirstToken), firstAudio: latencyMs(s.timeToFirstAudio), complete: latencyMs(s.completeResponse) },
        cache: Object.fromEntries(Object.entries(s.caches).map(([k, c]) => [k, { hits: c.hits, misses: c.misses, hitRate: percent(c.hits, c.hits + c.misses) }])),
        errors: { ...s.errors, breakdown: Object.fromEntries(Object.entries(s.errors).map(([k, n]) => [k, percent(n, totalErrors)])) },
        streaming: { totalStreams: finished, activeCount: s.activeStreams, completedCount: s.streams.completed, errorCount: s.streams.failed, abortedCount: s.streams.aborted },
      },
    });
  });

  router.get('/api/metrics/streaming/summary', ...guard('/api/metrics/streaming/summary'), (_req, res) => {
    const r = service.report();
    const s = r.snapshot;
    const hit = (name: string) => {
      const c = s.caches[name];
      return c === undefined ? null : percent(c.hits, c.hits + c.misses);
    };
    sendJson(res, 200, {
      success: true,
      timestamp: r.timestamp,
      summary: {
        uptime: formatUptime(r.uptimeSeconds),
        totalRequests: s.requests.total,
        successRate: percent(s.streams.completed, s.streams.completed + s.streams.failed),
        activeStreams: s.activeStreams,
        p95FirstTokenLatency: latencyMs(s.timeToFirstToken).p95,
        p95CompleteLatency: latencyMs(s.completeResponse).p95,
        cacheHitRate: { kb: hit('kb'), tts: hit('tts') },
        errorCount: Object.values(s.errors).reduce((a, b) => a + b, 0),
      },
    }, 'private, max-age=10');
  });

  router.get('/api/metrics/streaming/events', ...guard('/api/metrics/streaming/events'), (req, res) => {
    const limit = queryInt(req, 'limit', 50, 1, 500);
    const events = service.events(limit);
    sendJson(res, 200, { success: true, timestamp: new Date().toISOString(), events, count: events.length });
  });

  o.extend?.(router, (path) => guard(path));

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) return sendJson(res, err.statusCode, { error: err.message, ...err.extra });
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') return sendJson(res, 413, { error: 'request body too large' });
    if (e.type === 'entity.parse.failed') return sendJson(res, 400, { error: `malformed JSON body: ${e.message}` });
    logger.error({ err, requestId: res.locals.requestId }, 'health endpoint failed');
    sendJson(res, 500, { error: 'internal error' });
  });
  return router;
}
