import type { CheckResult, CheckStatus } from '../checks/types';
import type { KpiResult } from '../grading/grade';
import type { LatencyStats } from '../signals/snapshot';
import type { HealthReport, HealthStatus } from '../service/health-service';

export const HEALTH_JSON = 'application/health+json';

const TO_IETF: Record<HealthStatus, CheckStatus> = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' };

export function ietfStatus(s: HealthStatus): CheckStatus {
  return TO_IETF[s];
}

export function statusOfChecks(checks: readonly CheckResult[], required: (c: CheckResult) => boolean = () => true): HealthStatus {
  let s: HealthStatus = 'healthy';
  for (const c of checks) {
    if (c.status === 'fail') s = required(c) ? 'unhealthy' : s === 'unhealthy' ? s : 'degraded';
    else if (c.status === 'warn' && s === 'healthy') s = 'degraded';
  }
  return s;
}

/** The IETF health-check draft body (draft-inadarei-api-health-check): `checks` keyed `component:measurement`. */
export function toHealthJson(
  status: HealthStatus,
  checks: readonly CheckResult[],
  meta: { serviceId: string; version: string; issues?: readonly string[]; details?: boolean },
): Record<string, unknown> {
  const grouped: Record<string, unknown[]> = {};
  for (const c of checks) {
    const key = `${c.component}:${c.measurement}`;
    const entry: Record<string, unknown> = {
      componentId: c.name,
      componentType: c.component === 'system' ? 'system' : c.component === 'streaming' || c.component === 'cache' ? 'component' : 'datastore',
      status: c.status,
      time: c.time,
    };
    if (c.value !== undefined) entry.observedValue = c.value;
    if (c.unit !== undefined) entry.observedUnit = c.unit;
    if (c.message !== undefined) entry.output = c.message;
    if (meta.details && c.details !== undefined) entry.details = c.details;
    (grouped[key] ??= []).push(entry);
  }
  return {
    status: ietfStatus(status),
    version: '1',
    releaseId: meta.version,
    serviceId: meta.serviceId,
    description: `${meta.serviceId} health`,
    ...(meta.issues && meta.issues.length > 0 ? { output: meta.issues.join('; ') } : {}),
    checks: grouped,
  };
}

/** A check as the JSON endpoints show it: `{ status, value: "450ms", threshold: "≤1000ms" }`. */
export function checkObject(c: CheckResult): Record<string, unknown> {
  const o: Record<string, unknown> = { status: c.status, value: c.display ?? c.value ?? null };
  if (c.threshold !== undefined) o.threshold = c.threshold;
  if (c.message !== undefined) o.message = c.message;
  const k = c as Partial<KpiResult>;
  if (k.graded === false) o.graded = false;
  if (k.samples !== undefined) o.samples = k.samples;
  // Per-model KPIs: the provider and model that decided.
  if (k.subject !== undefined) o.subject = k.subject;
  return o;
}

const ms = (s: number | undefined) => (s === undefined ? null : Math.round(s * 1000));

/** Latency in whole milliseconds, as the JSON endpoints report it. */
export function latencyMs(l: LatencyStats): Record<string, number | null> {
  return { count: l.count, p50: ms(l.p50), p95: ms(l.p95), p99: ms(l.p99) };
}

export function percent(num: number, den: number): string | null {
  return den > 0 ? `${Math.round((num / den) * 10_000) / 100}%` : null;
}

/** Uptime as the JSON endpoints print it: `5d 12h 30m`. */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

export function summarizeReport(r: HealthReport) {
  return { status: r.status, timestamp: r.timestamp, issues: r.issues };
}
