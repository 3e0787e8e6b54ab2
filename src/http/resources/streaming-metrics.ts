import type { Router } from 'express';
import { queryInt, sendJson, wantsHealthJson } from '../toolkit';
import { streamingHealthView, streamingMetricsView, streamingSummaryView } from '../views/streaming';
import { sendHealthView, type ResourceContext } from './context';

/** The streaming-metrics resource: `/api/metrics/health/streaming`, `/api/metrics/streaming`, its summary and recent events. */
export function mountStreamingMetrics(router: Router, ctx: ResourceContext): void {
  const { service, meta, guard } = ctx;

  router.get('/api/metrics/health/streaming', ...guard('/api/metrics/health/streaming'), (req, res) => {
    const r = service.report();
    if (wantsHealthJson(req)) return sendHealthView(req, res, meta, { status: r.status, checks: [...r.kpis, ...r.dependencies], body: {}, issues: r.issues });
    sendJson(res, 200, streamingHealthView(r));
  });

  router.get('/api/metrics/streaming', ...guard('/api/metrics/streaming'), (_req, res) => {
    sendJson(res, 200, streamingMetricsView(service.report()));
  });

  router.get('/api/metrics/streaming/summary', ...guard('/api/metrics/streaming/summary'), (_req, res) => {
    sendJson(res, 200, streamingSummaryView(service.report()), 'private, max-age=10');
  });

  router.get('/api/metrics/streaming/events', ...guard('/api/metrics/streaming/events'), (req, res) => {
    const limit = queryInt(req, 'limit', 50, 1, 500);
    const events = service.events(limit);
    sendJson(res, 200, { success: true, timestamp: new Date().toISOString(), events, count: events.length });
  });
}
