import type { CheckStatus } from '../checks/types';
import type { InstanceSignals, SignalSnapshot } from '../signals/snapshot';
import { formatValue } from './format';
import { gradeKpis, type GradingOptions, type KpiResult } from './grade';
import { KPIS, type KpiKey } from './kpis';

/** An instance's status: graded like a service, or `missing` when it stopped reporting. */
export type InstanceStatus = 'healthy' | 'degraded' | 'unhealthy' | 'missing';

/** One instance of a fleet, graded with the fleet's thresholds and minimum samples. */
export interface InstanceGrade {
  readonly id: string;
  readonly job: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  readonly kpis: readonly KpiResult[];
  readonly snapshot: SignalSnapshot;
}

/** What the endpoints and the status page show of an instance. */
export interface InstanceSummary {
  readonly id: string;
  readonly job: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  /** Time to first token p95, ms; null when not measured in the window. */
  readonly firstTokenP95Ms: number | null;
  /** Streams finished in the window (completed, failed, aborted). */
  readonly streams: number;
  readonly activeStreams: number;
  /** 5xx / requests in the window; null without requests. */
  readonly errorRate: number | null;
  /** `kpi: message` for every KPI that is not a plain pass. */
  readonly issues: readonly string[];
}

const DEFS = new Map(KPIS.map((d) => [d.key, d]));
/** Worst first, so that with many instances the ones at fault lead the list. */
const ORDER: Record<InstanceStatus, number> = { unhealthy: 0, missing: 1, degraded: 2, healthy: 3 };
/** Instances named in a fleet KPI's message. */
const NAMED = 3;

function statusOf(kpis: readonly KpiResult[]): InstanceStatus {
  let worst: CheckStatus = 'pass';
  for (const k of kpis) if (k.status === 'fail' || (k.status === 'warn' && worst === 'pass')) worst = k.status;
  return worst === 'fail' ? 'unhealthy' : worst === 'warn' ? 'degraded' : 'healthy';
}

/** Grades every instance like the fleet; sorted worst first, then by name. */
export function gradeInstances(list: readonly InstanceSignals[], options: GradingOptions, now = new Date()): InstanceGrade[] {
  return list
    .map((i) => {
      const kpis = gradeKpis(i.snapshot, options, now);
      return { id: i.id, job: i.job, instance: i.instance, status: i.reporting ? statusOf(kpis) : ('missing' as const), kpis, snapshot: i.snapshot };
    })
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.id.localeCompare(b.id));
}

/**
 * Appends to each fleet KPI that is not a pass the instances that weigh on it, worst first, with
 * their own value: `… breaches ≤1000ms (fail >2000ms) — by instance: 10.0.0.2:9464 2950ms (fail),
 * 10.0.0.1:9464 110ms (pass)`. Only instances whose KPI was graded are named.
 */
export function nameWorstInstances(kpis: readonly KpiResult[], instances: readonly InstanceGrade[]): KpiResult[] {
  return kpis.map((k) => {
    if (k.status === 'pass' || !k.graded) return k;
    const def = DEFS.get(k.kpi as KpiKey)!;
    const graded: { id: string; value: number; status: CheckStatus }[] = [];
    for (const i of instances) {
      const r = i.kpis.find((x) => x.kpi === k.kpi);
      if (r !== undefined && r.graded && r.value !== undefined) graded.push({ id: i.id, value: r.value, status: r.status });
    }
    if (graded.length === 0) return k;
    graded.sort((a, b) => (def.direction === 'above' ? b.value - a.value : a.value - b.value) || a.id.localeCompare(b.id));
    const named = graded.slice(0, NAMED).map((g) => `${g.id} ${formatValue(g.value, def.unit)} (${g.status})`);
    const more = graded.length > NAMED ? `, and ${graded.length - NAMED} more` : '';
    return { ...k, message: `${k.message ?? `${def.label} ${k.status}`} — by instance: ${named.join(', ')}${more}` };
  });
}

export function summarizeInstance(g: InstanceGrade): InstanceSummary {
  const s = g.snapshot;
  const p95 = s.timeToFirstToken.p95;
  return {
    id: g.id,
    job: g.job,
    instance: g.instance,
    status: g.status,
    firstTokenP95Ms: s.timeToFirstToken.count > 0 && p95 !== undefined ? Math.round(p95 * 1000) : null,
    streams: s.streams.completed + s.streams.failed + s.streams.aborted,
    activeStreams: s.activeStreams,
    errorRate: s.requests.total > 0 ? s.requests.serverErrors / s.requests.total : null,
    issues: g.kpis.filter((k) => k.status !== 'pass').map((k) => `${k.name}: ${k.message ?? k.status}`),
  };
}
