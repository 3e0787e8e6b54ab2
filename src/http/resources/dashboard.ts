import type { Request, Response, Router } from 'express';
import { sendJson } from '../toolkit';
import { dashboardSummaryView, dashboardView } from '../views/dashboard';
import type { ResourceContext } from './context';

/** The dashboard resource: `/api/v1/health/dashboard` and its summary (also at `/dashboard/summary`). */
export function mountDashboard(router: Router, ctx: ResourceContext): void {
  const { service, guard } = ctx;
  router.get('/api/v1/health/dashboard', ...guard('/api/v1/health/dashboard'), (_req, res) => {
    sendJson(res, 200, dashboardView(service.report(), ctx.activeAlerts?.() ?? []));
  });
  const summary = (_req: Request, res: Response) => sendJson(res, 200, dashboardSummaryView(service.report(), ctx.activeAlerts?.().length ?? 0), 'private, max-age=10');
  router.get('/api/v1/health/dashboard/summary', ...guard('/api/v1/health/dashboard/summary'), summary);
  router.get('/dashboard/summary', ...guard('/api/v1/health/dashboard/summary'), summary);
}
