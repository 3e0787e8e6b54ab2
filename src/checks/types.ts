/** pass / warn / fail, as in the IETF health-check draft and the endpoints' check objects. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One graded check: a KPI or a dependency. */
export interface CheckResult {
  /** Stable key, e.g. `timeToFirstToken`, `database`, `redis`, `upstream:llm`. */
  readonly name: string;
  /** IETF component name (`database`, `redis`, `streaming`, `system`, `integrations`). */
  readonly component: string;
  /** IETF measurement name (`responseTime`, `connections`, `p95`, `utilization`, …). */
  readonly measurement: string;
  readonly status: CheckStatus;
  /** Numeric value in `unit`, when there is one. */
  readonly value?: number;
  /** Unit of `value` (`s`, `ms`, `ratio`, `count`, `bytes`). */
  readonly unit?: string;
  /** Human-readable value and threshold, as the endpoints show them (`450ms`, `≤1000ms`). */
  readonly display?: string;
  readonly threshold?: string;
  /** Why the status is what it is, for anything but a plain pass. */
  readonly message?: string;
  /** When the result was produced (ISO 8601). */
  readonly time: string;
  /** How long producing it took, ms (dependency checks). */
  readonly durationMs?: number;
  /** Extra detail shown with `?details=true`; never contains credentials. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Dependency checks: whether a `fail` makes the service unhealthy (else it only degrades it). */
  readonly required?: boolean;
}

/** A dependency check run in the background by the scheduler. */
/** What one run of a check decides; the scheduler adds name, component, time and duration. */
export type CheckOutcome = Omit<CheckResult, 'name' | 'component' | 'time' | 'durationMs'>;

export interface DependencyCheck {
  readonly name: string;
  readonly component: string;
  /** A failing required dependency makes the service unhealthy; an optional one degrades it. */
  readonly required: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** IETF measurement the check reports (`responseTime`, `utilization`, …); used before its first run. */
  readonly measurement?: string;
  /** Readiness groups select checks by tag (`tag:<tag>`). */
  readonly tags?: readonly string[];
  /** Runs once. Must honour `signal` (aborted on timeout) and never leave work running. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
  /** Releases connections; called on shutdown. */
  close?(): Promise<void>;
}
