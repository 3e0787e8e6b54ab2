import { DEFAULT_THRESHOLDS } from '../../../../src/grading/kpi-table';
import { gradeKpis } from '../../../../src/grading/grade';
import type { DependencyResult, HealthReport } from '../../../../src/service/health-service';
import { emptySnapshot, type SignalSnapshot } from '../../../../src/signals/snapshot';

const T = '2026-01-01T00:00:00.000Z';

/** A report as the health service would build it, from a snapshot and dependency results. */
export function report(over: Partial<SignalSnapshot> = {}, dependencies: DependencyResult[] = []): HealthReport {
  const snapshot: SignalSnapshot = { ...emptySnapshot(300), ...over };
  const kpis = gradeKpis(snapshot, { thresholds: DEFAULT_THRESHOLDS, minSamples: 1 }, new Date(T));
  return {
    status: dependencies.some((d) => d.status === 'fail' && d.required) ? 'unhealthy' : 'healthy',
    timestamp: T,
    evaluatedAt: T,
    uptimeSeconds: 93_784,
    shuttingDown: false,
    kpis,
    dependencies,
    snapshot,
    issues: dependencies.filter((d) => d.status !== 'pass').map((d) => `${d.name}: ${d.message ?? d.status}`),
  };
}

export function dep(name: string, component: string, status: 'pass' | 'warn' | 'fail', required: boolean, extra: Partial<DependencyResult> = {}): DependencyResult {
  return { name, component, measurement: 'responseTime', status, required, time: T, durationMs: 3, value: 4, unit: 'ms', ...(status !== 'pass' ? { message: `${name} is down` } : {}), ...extra };
}
