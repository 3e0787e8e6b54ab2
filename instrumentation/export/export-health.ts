import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { log } from '../log';

/** @opentelemetry/core's ExportResult (not a dependency of ours): code 0 is SUCCESS. */
type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];
const SUCCESS = 0;

/** How one push exporter is doing, as `/api/v1/health` and the status page show it. */
export interface ExporterState {
  readonly exporter: string;
  /** The collector's URL without credentials. */
  readonly endpoint: string;
  /** `unknown` until the first export settles. */
  readonly state: 'ok' | 'failing' | 'unknown';
  readonly exports: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly lastSuccessAt: string | null;
  readonly lastFailureAt: string | null;
  readonly lastError: string | null;
}

/** Failures are reported once at once, then at most this often, with the count and the reason. */
export const EXPORT_WARN_INTERVAL_MS = 60_000;

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** One push exporter's outcomes: counted, warned about (throttled), readable for the health view. */
class ExportTracker {
  private exports = 0;
  private failures = 0;
  private consecutive = 0;
  private lastSuccess: number | null = null;
  private lastFailure: number | null = null;
  private lastError: string | null = null;
  private lastWarnAt = -Infinity;
  private failuresSinceWarn = 0;

  constructor(
    readonly exporter: string,
    readonly endpoint: string,
    private readonly now: () => number,
  ) {}

  settled(result: ExportResult): void {
    this.exports++;
    const t = this.now();
    if (result.code === SUCCESS) {
      if (this.consecutive > 0) log.warn(`${this.exporter} export to ${this.endpoint} recovered after ${this.consecutive} failed export${this.consecutive > 1 ? 's' : ''}`);
      this.consecutive = 0;
      this.lastSuccess = t;
      this.lastWarnAt = -Infinity;
      this.failuresSinceWarn = 0;
      return;
    }
    this.failures++;
    this.consecutive++;
    this.failuresSinceWarn++;
    this.lastFailure = t;
    // Error text only: never the headers, which may carry an API key.
    this.lastError = (result.error?.message ?? 'unknown error').split('\n')[0]!.slice(0, 300);
    if (t - this.lastWarnAt < EXPORT_WARN_INTERVAL_MS) return;
    const first = this.lastWarnAt === -Infinity;
    log.warn(
      first
        ? `${this.exporter} export to ${this.endpoint} failed: ${this.lastError}; metrics are not arriving there (further failures are reported at most once a minute)`
        : `${this.exporter} export to ${this.endpoint}: ${this.failuresSinceWarn} failed export${this.failuresSinceWarn > 1 ? 's' : ''} in the last ${Math.round((t - this.lastWarnAt) / 1000)} s; last error: ${this.lastError}`,
    );
    this.lastWarnAt = t;
    this.failuresSinceWarn = 0;
  }

  state(): ExporterState {
    const iso = (v: number | null) => (v === null ? null : new Date(v).toISOString());
    return {
      exporter: this.exporter,
      endpoint: this.endpoint,
      state: this.exports === 0 ? 'unknown' : this.consecutive > 0 ? 'failing' : 'ok',
      exports: this.exports,
      failures: this.failures,
      consecutiveFailures: this.consecutive,
      lastSuccessAt: iso(this.lastSuccess),
      lastFailureAt: iso(this.lastFailure),
      lastError: this.lastError,
    };
  }

  get failureCount(): number {
    return this.failures;
  }
}

const trackers: ExportTracker[] = [];

/**
 * Wraps a push exporter so each export's outcome is tracked: without this, an OTLP collector
 * that refuses or hangs is silent (the SDK reports through the diag logger, which is off).
 */
export function trackExports(exporter: PushMetricExporter, name: string, endpoint: string, now: () => number = Date.now): PushMetricExporter {
  const tracker = new ExportTracker(name, withoutCredentials(endpoint), now);
  trackers.push(tracker);
  const wrapped: PushMetricExporter = {
    export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
      exporter.export(metrics, (result) => {
        try {
          tracker.settled(result);
        } finally {
          resultCallback(result);
        }
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) } : {}),
    ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
  };
  return wrapped;
}

/** Every tracked exporter's state (the health view, the status page). */
export function exporterStates(): ExporterState[] {
  return trackers.map((t) => t.state());
}

/** Failed exports by exporter (the `chatpulse.export.failures` self-metric). */
export function exportFailureCounts(): { exporter: string; failures: number }[] {
  return trackers.map((t) => ({ exporter: t.exporter, failures: t.failureCount }));
}

/** Forgets every tracker (tests, a runtime restarted in the same process). */
export function resetExportTracking(): void {
  trackers.length = 0;
}
