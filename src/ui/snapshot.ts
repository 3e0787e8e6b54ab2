import type { ExporterState } from '../../instrumentation/export/export-health';
import type { GradingOptions, KpiResult } from '../grading/grade';
import { summarizeInstance, type InstanceSummary } from '../grading/instances';
import { KPIS } from '../grading/kpis';
import type { DependencyResult, HealthReport, HealthStatus } from '../service/health-service';
import type { LatencyStats } from '../signals/snapshot';
import type { StreamEvent } from '../signals/stream-events';
import type { UpstreamStats } from '../signals/upstream-window';
import type { AlertView } from './alerts-view';
import { streamRate, type HistoryPoint } from './history';
import { upstreamViews, type UpstreamView } from './upstream-view';

/** One KPI or dependency check as the page shows it. */
export interface CheckView {
  readonly name: string;
  readonly label: string;
  readonly kind: 'kpi' | 'dependency';
  /** `streaming`, `cache`, `system` (KPIs) or `dependencies`. */
  readonly group: string;
  readonly status: 'pass' | 'warn' | 'fail';
  /** False: too few samples to grade (the status is then pass and the page says so). */
  readonly graded: boolean;
  readonly value: string | null;
  readonly threshold: string | null;
  readonly message: string | null;
  /** Dependencies: whether a failure makes the service unhealthy. */
  readonly required?: boolean;
}

export interface Limits {
  readonly warn: number;
  readonly fail: number;
}

export interface LatencyView {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Everything the page renders, sent whole on connect and on every change. */
export interface StatusSnapshot {
  readonly v: 1;
  readonly service: string;
  readonly version: string;
  readonly status: HealthStatus;
  readonly timestamp: string;
  readonly evaluatedAt: string;
  readonly uptimeSeconds: number;
  readonly shuttingDown: boolean;
  readonly issues: readonly string[];
  readonly checks: readonly CheckView[];
  readonly latency: { readonly firstToken: LatencyView; readonly firstAudio: LatencyView; readonly complete: LatencyView };
  /** The latency KPIs' warn and fail thresholds in ms, for the charts. */
  readonly limits: { readonly firstToken: Limits; readonly firstAudio: Limits; readonly complete: Limits };
  readonly streams: { readonly active: number; readonly completed: number; readonly failed: number; readonly aborted: number; readonly perSecond: number; readonly windowSeconds: number };
  readonly caches: readonly { readonly name: string; readonly hits: number; readonly misses: number; readonly hitRate: number | null }[];
  readonly alerts: { readonly available: boolean; readonly active: readonly AlertView[]; readonly resolved: readonly AlertView[] };
  readonly events: readonly StreamEvent[];
  readonly history: { readonly capacity: number; readonly intervalMs: number; readonly points: readonly HistoryPoint[] };
  /** Fleet mode: every instance with its own status, worst first; null in-process (no table). */
  readonly instances: readonly InstanceSummary[] | null;
  /** The model calls the app made over the window, by provider and model; empty when none (no panel). */
  readonly upstream: readonly UpstreamView[];
}

export interface SnapshotInputs {
  readonly service: string;
  readonly version: string;
  readonly report: HealthReport;
  /** Seconds, as the health configuration has them. */
  readonly thresholds: Readonly<Record<'timeToFirstToken' | 'timeToFirstAudio' | 'completeResponse', { warn: number; fail: number }>>;
  readonly alerts?: { active: readonly AlertView[]; resolved: readonly AlertView[] };
  readonly events: readonly StreamEvent[];
  readonly history: { capacity: number; intervalMs: number; points: readonly HistoryPoint[] };
  /** Push exporters' states (OTLP), shown with the dependencies: metrics not arriving is visible. */
  readonly exporters?: readonly ExporterState[];
  /** The upstream window's stats (in-process only), graded as the upstream KPIs are. */
  readonly upstream?: { readonly stats: readonly UpstreamStats[]; readonly grading: GradingOptions };
}

const LABELS = new Map<string, string>(KPIS.map((k) => [k.key, k.label]));
const ms = (s: number | undefined) => (s === undefined ? null : Math.round(s * 10_000) / 10);
const latency = (l: LatencyStats): LatencyView => ({ count: l.count, p50: ms(l.p50), p95: ms(l.p95), p99: ms(l.p99) });

const limits = (t: { warn: number; fail: number }): Limits => ({ warn: t.warn * 1000, fail: t.fail * 1000 });

function kpiView(k: KpiResult): CheckView {
  return {
    name: k.name,
    label: LABELS.get(k.name) ?? k.name,
    kind: 'kpi',
    group: k.component,
    status: k.status,
    graded: k.graded,
    value: k.display ?? null,
    threshold: k.threshold ?? null,
    message: k.message ?? null,
  };
}

function dependencyView(d: DependencyResult): CheckView {
  const unit = d.unit === undefined || d.unit === 'count' ? '' : d.unit === 'ratio' ? ' (ratio)' : d.unit;
  const value = d.display ?? (d.value === undefined ? null : `${Math.round(d.value * 100) / 100}${unit}`);
  return {
    name: d.name,
    label: d.name,
    kind: 'dependency',
    group: 'dependencies',
    status: d.status,
    graded: d.message !== 'not checked yet',
    value,
    threshold: d.threshold ?? null,
    message: d.message ?? null,
    required: d.required,
  };
}

/**
 * A push exporter as a row of the dependencies: failing warns (the service still serves, its
 * metrics do not arrive), with the count and the last reason; unknown until the first export.
 */
export function exporterView(e: ExporterState): CheckView {
  return {
    name: `telemetry:${e.exporter}`,
    label: `telemetry: ${e.exporter} export`,
    kind: 'dependency',
    group: 'dependencies',
    status: e.state === 'failing' ? 'warn' : 'pass',
    graded: e.state !== 'unknown',
    value: `${e.exports - e.failures}/${e.exports} exports`,
    threshold: null,
    message:
      e.state === 'failing'
        ? `${e.consecutiveFailures} failed in a row to ${e.endpoint}: ${e.lastError ?? 'unknown error'}`
        : e.state === 'unknown'
          ? 'no export yet'
          : null,
    required: false,
  };
}

/** Builds the page's snapshot: the health report plus alerts, recent stream events and chart history. */
export function buildSnapshot(i: SnapshotInputs): StatusSnapshot {
  const r = i.report;
  const s = r.snapshot;
  return {
    v: 1,
    service: i.service,
    version: i.version,
    status: r.status,
    timestamp: r.timestamp,
    evaluatedAt: r.evaluatedAt,
    uptimeSeconds: r.uptimeSeconds,
    shuttingDown: r.shuttingDown,
    issues: r.issues,
    checks: [...r.kpis.map(kpiView), ...r.dependencies.map(dependencyView), ...(i.exporters ?? []).map(exporterView)],
    latency: { firstToken: latency(s.timeToFirstToken), firstAudio: latency(s.timeToFirstAudio), complete: latency(s.completeResponse) },
    limits: { firstToken: limits(i.thresholds.timeToFirstToken), firstAudio: limits(i.thresholds.timeToFirstAudio), complete: limits(i.thresholds.completeResponse) },
    streams: { active: s.activeStreams, ...s.streams, perSecond: streamRate(s), windowSeconds: s.windowSeconds },
    caches: Object.entries(s.caches)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => ({ name, hits: c.hits, misses: c.misses, hitRate: c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : null })),
    alerts: i.alerts === undefined ? { available: false, active: [], resolved: [] } : { available: true, active: i.alerts.active, resolved: i.alerts.resolved },
    events: i.events,
    history: { capacity: i.history.capacity, intervalMs: i.history.intervalMs, points: i.history.points },
    instances: r.instances === undefined ? null : r.instances.map(summarizeInstance),
    upstream: i.upstream === undefined ? [] : upstreamViews(i.upstream.stats, i.upstream.grading),
  };
}
