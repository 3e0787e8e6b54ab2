import type { Request, RequestHandler, Response } from 'express';
import type { HealthService, HealthStatus } from '../../service/health-service';
import { toHealthJson } from '../formats';
import { sendHealthJson, sendJson, wantsHealthJson } from '../toolkit';
import type { HealthView, ServiceMeta } from '../views/health';

/** What every health resource gets from the router when it mounts its routes. */
export interface ResourceContext {
  readonly service: HealthService;
  readonly meta: ServiceMeta;
  /** Active alerts for the dashboard (the alerts module plugs in here). */
  readonly activeAlerts?: () => readonly { severity: string }[];
  /** Rate limit (when configured for `path`) and bearer auth, unless `isPublic`. */
  readonly guard: (path: string, isPublic?: boolean) => RequestHandler[];
}

/** 503 when unhealthy, so a load balancer can act on the status code alone. */
export const codeFor = (s: HealthStatus): number => (s === 'unhealthy' ? 503 : 200);

/** Sends a health view as JSON, or as application/health+json when the client asks for it. */
export function sendHealthView(req: Request, res: Response, meta: ServiceMeta, v: HealthView): void {
  if (wantsHealthJson(req)) {
    sendHealthJson(res, codeFor(v.status), toHealthJson(v.status, v.checks, { serviceId: meta.serviceName, version: meta.version, details: v.details ?? false, issues: v.issues }));
  } else {
    sendJson(res, codeFor(v.status), v.body);
  }
}
