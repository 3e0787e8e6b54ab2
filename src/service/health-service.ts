import type { Recorder } from '../../instrumentation/metrics/recorder';
import type { ProcessSampler } from '../../instrumentation/metrics/process-metrics';
import type { CheckResult } from '../checks/types';
import type { HealthConfig } from '../config/health-config';
import { gradeKpis, type KpiResult } from '../grading/grade';
import { Hysteresis } from '../grading/hysteresis';
import { gradeInstances, nameWorstInstances, type InstanceGrade } from '../grading/instances';
import { kpiCountsForReadiness, readinessWeight, type ReadinessScope } from './readiness';
import { emptySnapshot, type SignalSnapshot } from '../signals/snapshot';
import { SlidingWindow } from '../signals/window';
import { UpstreamWindow } from '../signals/upstream-window';
import type { StreamEvent } from '../signals/stream-events';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** A dependency check result as the service reports it: with whether it is required. */
export interface DependencyResult extends CheckResult {
  readonly required: boolean;
  /** Tags of the check (readiness groups select by tag). */
  readonly tags?: readonly string[];
}

/** Where dependency results come from (the background CheckScheduler). */
export interface DependencySource {
  /** The last stored result of every check; never runs a check. */
  results(): readonly DependencyResult[];
  start(): void;
  stop(): Promise<void>;
}

/** Where streaming signals come from: the in-process window, or Prometheus for a fleet. */
export interface SignalSource {
  snapshot(): SignalSnapshot | Promise<SignalSnapshot>;
  events?(limit: number): StreamEvent[];
  close?(): void;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly timestamp: string;
  /** When the KPIs were last evaluated. */
  readonly evaluatedAt: string;
  readonly uptimeSeconds: number;
  readonly shuttingDown: boolean;
  readonly kpis: readonly KpiResult[];
  readonly dependencies: readonly DependencyResult[];
  readonly snapshot: SignalSnapshot;
  /** One line per check that is not a plain pass. */
  readonly issues: readonly string[];
  /** Fleet mode: every instance graded on its own, worst first (absent in-process). */
  readonly instances?: readonly InstanceGrade[];
}


/** A check's effect on the service: a failing optional dependency only degrades it. */
export function effectOf(c: CheckResult, required: boolean): HealthStatus {
  if (c.status === 'fail') return required ? 'unhealthy' : 'degraded';
  return c.status === 'warn' ? 'degraded' : 'healthy';
}

export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  const order: HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];
  return order[Math.max(order.indexOf(a), order.indexOf(b))]!;
}

export interface HealthServiceOptions {
  readonly config: HealthConfig;
  readonly signals: SignalSource;
  readonly dependencies?: DependencySource;
  /** Starts the evaluation timer (default true). Tests evaluate by hand. */
  readonly autoEvaluate?: boolean;
  /** What readiness answers for (default: the configuration's `readiness` group; see readiness.ts). */
  readonly readiness?: ReadinessScope;
}

/**
 * Grades the service: KPIs from the signal source (evaluated on an interval, with hysteresis),
 * dependencies from their background checks. Endpoints read the last evaluation, so a request
 * never waits on a measurement.
 */
export class HealthService {
  readonly config: HealthConfig;
  readonly startedAt = Date.now();
  private readonly signals: SignalSource;
  private readonly deps: DependencySource | undefined;
  private readonly readiness: ReadinessScope;
  private readonly hysteresis: Hysteresis;
  private timer: NodeJS.Timeout | undefined;
  private last: { kpis: KpiResult[]; snapshot: SignalSnapshot; at: Date; instances?: InstanceGrade[] } | undefined;
  private evaluating: Promise<void> | undefined;
  private shuttingDown = false;
  private readonly listeners = new Set<(r: HealthReport) => void>();
  private readonly evaluatedListeners = new Set<(r: HealthReport) => void>();
  private lastStatus: HealthStatus | undefined;

  constructor(options: HealthServiceOptions) {
    this.config = options.config;
    this.signals = options.signals;
    this.deps = options.dependencies;
    this.readiness = options.readiness ?? options.config.readiness;
    this.hysteresis = new Hysteresis(options.config.hysteresis);
    if (options.autoEvaluate !== false) {
      this.timer = setInterval(() => void this.evaluate().catch(() => undefined), this.config.evaluationIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * In-process mode: a sliding window over the instrumentation's recorder, and one over the model
   * calls the app made (the upstream KPIs and the passive upstream checks read it).
   */
  static windowSource(recorder: Recorder, config: HealthConfig, sampler?: ProcessSampler): SignalSource & { window: SlidingWindow; upstreams: UpstreamWindow } {
    const window = new SlidingWindow(recorder, config.windowMs, sampler).attach();
    const upstreams = new UpstreamWindow(recorder, config.windowMs).attach();
    return {
      window,
      upstreams,
      snapshot: () => ({ ...window.snapshot(), upstreams: upstreams.stats() }),
      events: (n) => window.events.recent(n),
      close: () => {
        window.close();
        upstreams.close();
      },
    };
  }

  start(): this {
    this.deps?.start();
    void this.evaluate().catch(() => undefined);
    return this;
  }

  /** Grades the KPIs now. Single-flight: concurrent callers share one evaluation. */
  evaluate(): Promise<void> {
    this.evaluating ??= (async () => {
      try {
        const snapshot = await this.signals.snapshot();
        const at = new Date();
        const grading = { thresholds: this.config.thresholds, minSamples: this.config.minSamples, disabled: this.config.disabledKpis };
        // A fleet's snapshot carries each instance's: graded alike, and named in the fleet's issues.
        const instances = snapshot.perInstance === undefined ? undefined : gradeInstances(snapshot.perInstance, grading, at);
        const fleet = gradeKpis(snapshot, grading, at);
        const raw = instances === undefined ? fleet : nameWorstInstances(fleet, instances);
        const kpis = raw.map((k) => {
          const reported = this.hysteresis.apply(k.name, k.status);
          if (reported === k.status) return k;
          return { ...k, status: reported, message: `${k.message ?? `${k.name} observed ${k.status}`}; reported ${reported} until it holds for ${this.config.hysteresis} evaluations` };
        });
        this.last = { kpis, snapshot, at, ...(instances !== undefined ? { instances } : {}) };
        this.notify();
        this.notifyEvaluated();
      } finally {
        this.evaluating = undefined;
      }
    })();
    return this.evaluating;
  }

  /** The current report from the last KPI evaluation and the stored dependency results. */
  report(): HealthReport {
    // Before the first evaluation there are no KPI results yet: dependencies alone decide.
    const last = this.last ?? { kpis: [], snapshot: emptySnapshot(this.config.windowMs / 1000), at: new Date(this.startedAt) };
    const dependencies = this.deps?.results() ?? [];
    let status: HealthStatus = 'healthy';
    const issues: string[] = [];
    for (const k of last.kpis) {
      status = worst(status, effectOf(k, true));
      if (k.status !== 'pass') issues.push(`${k.name}: ${k.message ?? k.status}`);
    }
    for (const d of dependencies) {
      status = worst(status, effectOf(d, d.required));
      if (d.status !== 'pass') issues.push(`${d.name}${d.required ? '' : ' (optional)'}: ${d.message ?? d.status}`);
    }
    if (this.shuttingDown) issues.push('shutting down');
    return {
      status,
      timestamp: new Date().toISOString(),
      evaluatedAt: last.at.toISOString(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      shuttingDown: this.shuttingDown,
      kpis: last.kpis,
      dependencies,
      snapshot: last.snapshot,
      issues,
      ...(last.instances !== undefined ? { instances: last.instances } : {}),
    };
  }

  /**
   * Readiness: not shutting down, and the members of the readiness group (readiness.ts; by
   * default required dependencies and event-loop saturation) not unhealthy. Cheap enough for
   * thousands of polls a second.
   */
  ready(): { ready: boolean; status: HealthStatus; reason?: string } {
    if (this.shuttingDown) return { ready: false, status: 'unhealthy', reason: 'shutting down' };
    const scope = this.readiness;
    // The polled path: fold the statuses without building the report; only a failure pays for more.
    let status: HealthStatus = 'healthy';
    for (const k of this.last?.kpis ?? []) if (kpiCountsForReadiness(scope, k.name)) status = worst(status, effectOf(k, true));
    for (const d of this.deps?.results() ?? []) {
      const w = readinessWeight(scope, d);
      if (w !== undefined) status = worst(status, effectOf(d, w === 'required' || d.required));
    }
    if (status !== 'unhealthy') return { ready: true, status };
    // Only what readiness answers for, worded as in the report's issues.
    const issues: string[] = [];
    for (const k of this.last?.kpis ?? []) if (kpiCountsForReadiness(scope, k.name) && k.status !== 'pass') issues.push(`${k.name}: ${k.message ?? k.status}`);
    for (const d of this.deps?.results() ?? []) {
      if (readinessWeight(scope, d) !== undefined && d.status !== 'pass') issues.push(`${d.name}${d.required ? '' : ' (optional)'}: ${d.message ?? d.status}`);
    }
    return { ready: false, status, reason: issues.join('; ') };
  }

  events(limit: number): StreamEvent[] {
    return this.signals.events?.(limit) ?? [];
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Readiness turns 503 from this moment on. */
  beginShutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.notify();
  }

  /** Called with the report whenever the overall status changes (live page, alerts). */
  onStatusChange(listener: (r: HealthReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called with the report after every KPI evaluation, changed or not (live page, its charts). */
  onEvaluated(listener: (r: HealthReport) => void): () => void {
    this.evaluatedListeners.add(listener);
    return () => this.evaluatedListeners.delete(listener);
  }

  private notifyEvaluated(): void {
    if (this.evaluatedListeners.size === 0) return;
    const r = this.report();
    for (const l of this.evaluatedListeners) {
      try {
        l(r);
      } catch {
        // A listener's failure must not stop grading.
      }
    }
  }

  private notify(): void {
    if (this.listeners.size === 0 || this.last === undefined) return;
    const r = this.report();
    if (r.status === this.lastStatus && !this.shuttingDown) return;
    this.lastStatus = r.status;
    for (const l of this.listeners) {
      try {
        l(r);
      } catch {
        // A listener's failure must not stop grading.
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.deps?.stop();
    this.signals.close?.();
  }
}

