import type { CheckResult } from '../checks/types';

/**
 * What readiness (/api/v1/health/ready) answers for, besides shutting down.
 *
 * In-process the health server lives in the process that serves the traffic: its KPIs and its
 * required dependencies decide, so a process that cannot serve well is taken out of rotation.
 * The fleet server (`chatpulse serve`) serves reports about other processes: only the checks
 * about itself decide (Prometheus answers), never the grade of the fleet it reports on — else
 * Kubernetes would unroute or restart the monitor exactly when the fleet needs watching.
 */
export interface ReadinessScope {
  /** Whether the KPIs count. */
  readonly kpis: boolean;
  /** Which dependency results count (by check name); undefined = every one. */
  readonly dependencies?: readonly string[];
}

/** The in-process scope: everything the report grades. */
export const FULL_READINESS: ReadinessScope = Object.freeze({ kpis: true });

/** Whether a dependency result counts toward readiness under `scope`. */
export function countsForReadiness(scope: ReadinessScope, check: CheckResult): boolean {
  return scope.dependencies === undefined || scope.dependencies.includes(check.name);
}
