import type { Router } from 'express';
import { exporterStates } from '../../../instrumentation/export/export-health';
import { NO_STORE, queryEnum, sendHealthJson, sendJson, wantsHealthJson } from '../toolkit';
import { SERVICE_FILTERS, basicView, deepView, healthView } from '../views/health';
import { sendHealthView, type ResourceContext } from './context';

function processMemory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal };
}

/**
 * The health resource: `/health` (public), liveness and readiness (never limited, never
 * authenticated: orchestrators poll them), `/api/v1/health` (`?service=`) and `/deep`.
 * Every handler reads the stored report: no request waits on a measurement.
 */
export function mountHealth(router: Router, ctx: ResourceContext): void {
  const { service, meta, guard } = ctx;

  router.get('/health', ...guard('/health', true), (req, res) => {
    sendHealthView(req, res, meta, basicView(service.report()));
  });

  router.get('/api/v1/health/live', (req, res) => {
    // Liveness never depends on dependencies or KPIs: the process answering is the signal.
    if (wantsHealthJson(req)) sendHealthJson(res, 200, { status: 'pass', version: '1', releaseId: meta.version, serviceId: meta.serviceName }, NO_STORE);
    else sendJson(res, 200, { status: 'alive', timestamp: new Date().toISOString(), uptime: Math.floor((Date.now() - service.startedAt) / 1000) }, NO_STORE);
  });

  router.get('/api/v1/health/ready', (req, res) => {
    const r = service.ready();
    if (wantsHealthJson(req)) {
      sendHealthJson(res, r.ready ? 200 : 503, { status: r.ready ? (r.status === 'degraded' ? 'warn' : 'pass') : 'fail', ...(r.reason ? { output: r.reason } : {}), serviceId: meta.serviceName }, NO_STORE);
    } else {
      sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', health: r.status, ...(r.reason ? { reason: r.reason } : {}), timestamp: new Date().toISOString() }, NO_STORE);
    }
  });

  router.get('/api/v1/health', ...guard('/api/v1/health'), (req, res) => {
    const filter = queryEnum(req, 'service', SERVICE_FILTERS);
    sendHealthView(req, res, meta, healthView(service.report(), filter, meta, processMemory, exporterStates));
  });

  router.get('/api/v1/health/deep', ...guard('/api/v1/health/deep'), (req, res) => {
    sendHealthView(req, res, meta, deepView(service.report(), meta));
  });
}
