import type { ExporterState } from '../../../instrumentation/export/export-health';
import type { CheckResult } from '../../checks/types';
import type { KpiResult } from '../../grading/grade';
import type { DependencyResult, HealthReport, HealthStatus } from '../../service/health-service';
import { checkObject, statusOfChecks } from '../formats';
import { summarizeInstance } from '../../grading/instances';

/**
 * Pure view builders of the health resources: a report in, a response body out. No request, no
 * clock, no process state (what they need is passed in), so each shape is unit-tested without a
 * server (test/src/http/views).
 */

export const SERVICE_FILTERS = ['database', 'redis', 'streaming', 'system', 'integrations', 'quick', 'custom'] as const;
export type ServiceFilter = (typeof SERVICE_FILTERS)[number];

/** Who answers: serviceId and version in health+json bodies and the full report. */
export interface ServiceMeta {
  readonly serviceName: string;
  readonly version: string;
}

/** A body, with the status and checks a health+json rendering of the same answer needs. */
export interface HealthView {
  readonly status: HealthStatus;
  readonly checks: readonly CheckResult[];
  readonly body: Record<string, unknown>;
  readonly issues?: readonly string[];
  readonly details?: boolean;
}

export function depsOf(r: HealthReport, component: string): DependencyResult[] {
  return r.dependencies.filter((d) => d.component === component);
}

/** A failing optional dependency only degrades. */
export function depStatus(deps: readonly DependencyResult[]): HealthStatus {
  return statusOfChecks(deps, (c) => (c as DependencyResult).required);
}

export function depBody(d: DependencyResult, details: boolean): Record<string, unknown> {
  return {
    status: d.status,
    required: d.required,
    ...(d.value !== undefined ? { value: d.value, unit: d.unit } : {}),
    ...(d.message !== undefined ? { message: d.message } : {}),
    checkedAt: d.time,
    durationMs: d.durationMs,
    ...(details && d.details !== undefined ? { details: d.details } : {}),
  };
}

export function kpisOf(r: HealthReport, components: readonly string[]): KpiResult[] {
  return r.kpis.filter((k) => components.includes(k.component));
}

export function kpiBody(ks: readonly KpiResult[]): Record<string, unknown> {
  return Object.fromEntries(ks.map((k) => [k.name, checkObject(k)]));
}

/** `/health` and `?service=quick`: the overall status only. */
export function basicView(r: HealthReport): HealthView {
  return { status: r.status, checks: [], body: { status: r.status, timestamp: r.timestamp } };
}

/**
 * `/api/v1/health` (`?service=…` narrows it to one section); `memory` reads the process's memory,
 * called only for the full report.
 */
export function healthView(
  r: HealthReport,
  filter: ServiceFilter | undefined,
  meta: ServiceMeta,
  memory: () => { rss: number; heapUsed: number; heapTotal: number },
  /** Push exporters' states (OTLP): shown so an operator sees metrics are not arriving. */
  exporters: () => readonly ExporterState[] = () => [],
): HealthView {
  if (filter === 'quick') return basicView(r);
  const sections: Record<string, { status: HealthStatus; checks: readonly CheckResult[]; body: unknown }> = {};
  const streamingKpis = kpisOf(r, ['streaming', 'cache']);
  sections.streaming = { status: statusOfChecks(streamingKpis), checks: streamingKpis, body: kpiBody(streamingKpis) };
  const systemChecks = [...kpisOf(r, ['system']), ...depsOf(r, 'system')];
  sections.system = { status: statusOfChecks(systemChecks), checks: systemChecks, body: Object.fromEntries(systemChecks.map((c) => [c.name, checkObject(c)])) };
  // `custom`: the app's own checks (checks/custom.ts).
  for (const comp of ['database', 'redis', 'integrations', 'custom'] as const) {
    const ds = depsOf(r, comp);
    if (ds.length > 0 || filter === comp) {
      sections[comp] = { status: depStatus(ds), checks: ds, body: Object.fromEntries(ds.map((d) => [d.name, depBody(d, false)])) };
    }
  }
  if (filter !== undefined) {
    const s = sections[filter]!;
    return { status: s.status, checks: s.checks, body: { service: filter, status: s.status, timestamp: r.timestamp, checks: s.body }, issues: r.issues };
  }
  return {
    status: r.status,
    checks: [...r.kpis, ...r.dependencies],
    body: {
      status: r.status,
      timestamp: r.timestamp,
      uptime: r.uptimeSeconds,
      version: meta.version,
      service: meta.serviceName,
      services: Object.fromEntries(Object.entries(sections).map(([k, s]) => [k, { status: s.status, checks: s.body }])),
      issues: r.issues,
      // Fleet mode: each instance's own grade, worst first.
      ...(r.instances !== undefined ? { instances: r.instances.map(summarizeInstance) } : {}),
      metrics: { uptime: r.uptimeSeconds, memory: memory(), evaluatedAt: r.evaluatedAt },
      ...((list) => (list.length > 0 ? { telemetry: { exporters: list } } : {}))(exporters()),
    },
    issues: r.issues,
  };
}

/** `/api/v1/health/deep`: everything, with dependency details and the window's snapshot. */
export function deepView(r: HealthReport, meta: ServiceMeta): HealthView {
  return {
    status: r.status,
    checks: [...r.kpis, ...r.dependencies],
    body: {
      status: r.status,
      timestamp: r.timestamp,
      evaluatedAt: r.evaluatedAt,
      uptime: r.uptimeSeconds,
      version: meta.version,
      service: meta.serviceName,
      shuttingDown: r.shuttingDown,
      kpis: r.kpis,
      dependencies: r.dependencies.map((d) => ({ name: d.name, component: d.component, ...depBody(d, true) })),
      window: r.snapshot,
      issues: r.issues,
      ...(r.instances !== undefined ? { instances: r.instances.map((g) => ({ ...summarizeInstance(g), kpis: g.kpis })) } : {}),
    },
    issues: r.issues,
    details: true,
  };
}

/** `/api/v1/health/database` and `/redis`; undefined when no such check is configured. */
export function dependencyView(r: HealthReport, component: 'database' | 'redis', details: boolean): HealthView | undefined {
  const ds = depsOf(r, component);
  if (ds.length === 0) return undefined;
  const status = depStatus(ds);
  const d = ds[0]!;
  return {
    status,
    checks: ds,
    body: { service: component, ...depBody(d, details), status, timestamp: r.timestamp, metrics: { responseTime: d.value ?? null } },
    details,
  };
}

/** `/api/v1/health/integrations`: every upstream check. */
export function integrationsView(r: HealthReport, details: boolean): HealthView {
  const ds = depsOf(r, 'integrations');
  const status = depStatus(ds);
  return {
    status,
    checks: ds,
    body: {
      status,
      timestamp: r.timestamp,
      integrations: Object.fromEntries(ds.map((d) => [d.name, depBody(d, details)])),
      summary: { total: ds.length, passing: ds.filter((d) => d.status === 'pass').length, failing: ds.filter((d) => d.status === 'fail').length },
    },
    details,
  };
}
