import type { Router } from 'express';
import { queryBool, sendJson } from '../toolkit';
import { dependencyView, integrationsView } from '../views/health';
import { sendHealthView, type ResourceContext } from './context';

/** The dependency resources: `/api/v1/health/database`, `/redis` and `/integrations` (`?details=true`). */
export function mountDependencies(router: Router, ctx: ResourceContext): void {
  const { service, meta, guard } = ctx;

  for (const comp of ['database', 'redis'] as const) {
    router.get(`/api/v1/health/${comp}`, ...guard(`/api/v1/health/${comp}`), (req, res) => {
      const details = queryBool(req, 'details');
      const v = dependencyView(service.report(), comp, details);
      if (v === undefined) {
        return sendJson(res, 404, { error: `no ${comp} check configured (set ${comp === 'database' ? 'DATABASE_URL' : 'REDIS_URL or REDIS_CLUSTER_NODES'})` });
      }
      sendHealthView(req, res, meta, v);
    });
  }

  router.get('/api/v1/health/integrations', ...guard('/api/v1/health/integrations'), (req, res) => {
    sendHealthView(req, res, meta, integrationsView(service.report(), queryBool(req, 'details')));
  });
}
