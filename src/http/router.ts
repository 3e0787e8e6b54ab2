import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import type { HealthService } from '../service/health-service';
import { bearerAuth } from './auth';
import { rateLimit } from './rate-limit';
import { requestId } from './request-id';
import type { ResourceContext } from './resources/context';
import { mountDashboard } from './resources/dashboard';
import { mountDependencies } from './resources/dependencies';
import { mountCustomChecks } from './resources/custom-checks';
import { mountHealth } from './resources/health';
import { mountStreamingMetrics } from './resources/streaming-metrics';
import { errorHandler } from './toolkit';
import { unmatched } from './unmatched';

export interface HealthRouterOptions {
  readonly service: HealthService;
  readonly logger: Logger;
  /** service.name, shown as serviceId. */
  readonly serviceName: string;
  readonly version: string;
  /** Active alerts for the dashboard (the alerts module plugs in here). */
  readonly activeAlerts?: () => readonly { severity: string }[];
  /** The app's own checks, each served at `/api/v1/health/<name>`. */
  readonly customChecks?: readonly string[];
  /** Extra authenticated routes mounted on the same router (alerts API, status page). */
  readonly extend?: (router: Router, guard: (path: string) => RequestHandler[]) => void;
}

/**
 * The health router: request ids and request logs, then each resource mounting its own routes
 * (resources/*), the extensions (alerts API, status page), and one error handler. Rate limits
 * and the bearer token apply per path, as the configuration says.
 */
export function createHealthRouter(o: HealthRouterOptions): Router {
  const { service, logger } = o;
  const config = service.config;
  const router = express.Router();
  const auth = bearerAuth(config.token);
  const guard = (path: string, isPublic = false): RequestHandler[] => {
    const chain: RequestHandler[] = [];
    const limit = config.rateLimits[path];
    if (limit !== undefined) chain.push(rateLimit(path, limit, config.trustProxy));
    if (!isPublic) chain.push(auth);
    return chain;
  };

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

  const ctx: ResourceContext = { service, meta: { serviceName: o.serviceName, version: o.version }, guard, ...(o.activeAlerts ? { activeAlerts: o.activeAlerts } : {}) };
  mountHealth(router, ctx);
  mountDependencies(router, ctx);
  mountCustomChecks(router, ctx, o.customChecks ?? []);
  mountDashboard(router, ctx);
  mountStreamingMetrics(router, ctx);
  o.extend?.(router, (path) => guard(path));

  router.use(unmatched(router));
  router.use(errorHandler(logger));
  return router;
}
