import type { Logger } from 'pino';
import type { DependencyResult, DependencySource, SignalSource } from '../service/health-service';
import type { ReadinessScope } from '../service/readiness';
import { emptySnapshot, type SignalSnapshot } from '../signals/snapshot';
import type { StreamEvent } from '../signals/stream-events';
import { PrometheusSignalSource } from './prometheus-source';

/**
 * Readiness of the fleet server: it can do its job when Prometheus answers (and it is not shutting
 * down). The fleet's KPIs and its `instances` check describe the fleet, not this server.
 */
export const FLEET_READINESS: ReadinessScope = Object.freeze({ kpis: false, dependencies: Object.freeze(['prometheus']) });

/**
 * The fleet as the health service sees it: signals from Prometheus, plus two required checks that
 * say whether those signals can be trusted —
 *
 *   prometheus  the last snapshot's queries all succeeded (else: why, naming the URL)
 *   instances   at least one instance of the service reports metrics (else every KPI would be
 *               "not graded" and an entirely dead fleet would look healthy)
 *
 * A failed snapshot never fails the evaluation: grading keeps the last good numbers (or an empty
 * window) and the `prometheus` check turns the report unhealthy until Prometheus answers again.
 */
export class PrometheusFleet implements SignalSource, DependencySource {
  private last: SignalSnapshot | undefined;
  private checks: DependencyResult[];
  private failing: string | undefined;
  private closed = false;

  constructor(
    readonly source: PrometheusSignalSource,
    private readonly logger?: Logger,
  ) {
    const time = new Date().toISOString();
    const pending = 'not checked yet';
    this.checks = [
      { name: 'prometheus', component: 'integrations', measurement: 'responseTime', status: 'pass', message: pending, time, required: true },
      { name: 'instances', component: 'system', measurement: 'instances', status: 'pass', message: pending, time, required: true },
    ];
  }

  async snapshot(): Promise<SignalSnapshot> {
    const started = performance.now();
    const time = () => new Date().toISOString();
    const target = this.source.service === undefined ? 'any service' : `service_name=${JSON.stringify(this.source.service)}`;
    try {
      const s = await this.source.snapshot();
      const durationMs = Math.round(performance.now() - started);
      this.last = s;
      if (this.failing !== undefined) this.logger?.info({ prometheus: this.source.url }, 'Prometheus answers again');
      this.failing = undefined;
      this.checks = [
        { name: 'prometheus', component: 'integrations', measurement: 'responseTime', status: 'pass', value: durationMs, unit: 'ms', display: `${durationMs}ms`, time: time(), durationMs, required: true, details: { url: this.source.url } },
        this.instancesCheck(s, time(), target),
      ];
      return s;
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const message = (err as Error).message;
      if (this.failing !== message && !this.closed) this.logger?.warn({ prometheus: this.source.url, err: message }, 'fleet signals unavailable');
      this.failing = message;
      this.checks = [
        { name: 'prometheus', component: 'integrations', measurement: 'responseTime', status: 'fail', message, time: time(), durationMs, required: true, details: { url: this.source.url } },
        // Unknown, not zero: keep the last count, say it is stale.
        { ...this.checks[1]!, ...(this.last === undefined ? { status: 'fail' as const, message: 'unknown: Prometheus has not answered yet' } : {}), time: time() },
      ];
      return this.last ?? emptySnapshot(this.source.windowMs / 1000);
    }
  }

  /**
   * At least one instance reports (else fail), and none that reported within the window has
   * stopped (else warn, naming it: a crashed replica, or one scaled down, for one window).
   */
  private instancesCheck(s: SignalSnapshot, time: string, target: string): DependencyResult {
    const base = { name: 'instances', component: 'system', measurement: 'instances', unit: 'count', value: s.instances, display: String(s.instances), time, required: true } as const;
    if (s.instances === 0) {
      return { ...base, status: 'fail', message: `no instance of ${target} in Prometheus at ${this.source.url} (check --service and the scrape config)` };
    }
    const missing = (s.perInstance ?? []).filter((i) => !i.reporting).map((i) => i.id);
    if (missing.length === 0) return { ...base, status: 'pass' };
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, and ${missing.length - 10} more` : '');
    return {
      ...base,
      status: 'warn',
      message: `${s.instances} reporting; missing (reported within the last ${s.windowSeconds}s, nothing now): ${shown}`,
      details: { missing: missing.slice(0, 100) },
    };
  }

  events(): StreamEvent[] {
    return [];
  }

  results(): readonly DependencyResult[] {
    return this.checks;
  }

  start(): void {
    // Checked with every snapshot: nothing runs on its own.
  }

  async stop(): Promise<void> {
    this.close();
  }

  close(): void {
    this.closed = true;
    this.source.close();
  }
}
