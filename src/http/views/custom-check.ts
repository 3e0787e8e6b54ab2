import type { HealthReport } from '../../service/health-service';
import { CUSTOM_COMPONENT } from '../../checks/custom';
import { depBody, depStatus, type HealthView } from './health';

/**
 * `/api/v1/health/<name>`: one of the app's own checks on its own, as the database endpoint
 * shows the database (details only with `?details=true`). Undefined when there is no such check.
 */
export function customCheckView(r: HealthReport, name: string, details: boolean): HealthView | undefined {
  const d = r.dependencies.find((x) => x.component === CUSTOM_COMPONENT && x.name === name);
  if (d === undefined) return undefined;
  const status = depStatus([d]);
  return {
    status,
    checks: [d],
    body: { service: name, ...depBody(d, details), status, check: d.status, ...(d.tags !== undefined ? { tags: d.tags } : {}), timestamp: r.timestamp },
    details,
  };
}
