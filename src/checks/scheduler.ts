import { TimeoutError, abortReason } from './abort';
import { round } from './format';
import { errorMessage } from './redact';
import type { CheckResult, CheckStatus, DependencyCheck } from './types';
import { settleWithin } from '../../common/timeout';

/** Passed to `onChange` listeners whenever a check's status changes. */
export interface StatusChange {
  readonly name: string;
  readonly previous: CheckResult;
  readonly current: CheckResult;
  /** The first real result after "not checked yet"; alerting usually ignores these. */
  readonly first: boolean;
}

/** Counters for the live page and for tests; they explain a stale or skipped result. */
export interface CheckStats {
  /** A run is in flight (possibly past its deadline, if the check ignores its signal). */
  readonly running: boolean;
  /** Runs started. */
  readonly runs: number;
  /** Interval ticks that found the previous run still in flight and so started nothing. */
  readonly skippedTicks: number;
  /** Runs recorded as `timed out`. */
  readonly timeouts: number;
  /** When the current status began (ISO 8601). */
  readonly statusSince: string;
}

export interface CheckSchedulerOptions {
  /** How long `stop()` waits for in-flight runs, then for each `close()`. Default 5000 ms. */
  readonly stopTimeoutMs?: number;
  /** Told about listener and `close()` errors, which must not break the scheduler. */
  readonly onError?: (err: unknown, context: string) => void;
}

export type StatusListener = (change: StatusChange) => void;

const NOT_CHECKED = 'not checked yet';
const STATUSES: ReadonlySet<string> = new Set<CheckStatus>(['pass', 'warn', 'fail']);

interface Flight {
  readonly controller: AbortController;
  readonly startedAt: number;
  /** Resolves with the recorded result at completion or at the deadline, whichever is first. */
  readonly result: Promise<CheckResult>;
  /** Resolves when the check's own promise settles, which a misbehaving check may never do. */
  settled: Promise<void>;
  overdue: boolean;
}

interface Entry {
  readonly check: DependencyCheck;
  result: CheckResult;
  first: boolean;
  timer: NodeJS.Timeout | undefined;
  flight: Flight | undefined;
  runs: number;
  skippedTicks: number;
  timeouts: number;
  statusSince: string;
}

/**
 * Runs dependency checks in the background and keeps their last results, so health endpoints
 * only ever read memory: a hung dependency cannot hang an endpoint, and however often the
 * endpoints are polled, each dependency sees one probe per interval.
 *
 * Each check runs one at a time: a tick that finds the previous run in flight starts nothing,
 * `runNow` joins the run in flight, and a run that ignores its abort signal past the deadline is
 * recorded as failed at the deadline yet still blocks new runs until it ends, so a stuck probe
 * never piles up more probes against a struggling dependency.
 */
export class CheckScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<StatusListener>();
  private readonly stopTimeoutMs: number;
  private readonly onError: (err: unknown, context: string) => void;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(checks: Iterable<DependencyCheck> = [], options: CheckSchedulerOptions = {}) {
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.onError = options.onError ?? (() => {});
    for (const check of checks) this.add(check);
  }

  /** Registers a check; once started, it runs at once and then on its interval. */
  add(check: DependencyCheck): this {
    if (this.stopping !== undefined) throw new Error('CheckScheduler: stopped');
    if (this.entries.has(check.name)) throw new Error(`CheckScheduler: duplicate check name "${check.name}"`);
    for (const key of ['intervalMs', 'timeoutMs'] as const) {
      if (!(Number.isFinite(check[key]) && check[key] > 0)) {
        throw new RangeError(`CheckScheduler: check "${check.name}" needs a positive ${key}`);
      }
    }
    const now = new Date().toISOString();
    const entry: Entry = {
      check,
      result: {
        name: check.name,
        component: check.component,
        measurement: check.measurement ?? 'status',
        status: 'warn',
        message: NOT_CHECKED,
        time: now,
        required: check.required,
      },
      first: true,
      timer: undefined,
      flight: undefined,
      runs: 0,
      skippedTicks: 0,
      timeouts: 0,
      statusSince: now,
    };
    this.entries.set(check.name, entry);
    if (this.started) this.schedule(entry);
    return this;
  }

  /** Starts every check now and then on its interval. Timers are unref'd: they never hold the process. */
  start(): void {
    if (this.stopping !== undefined) throw new Error('CheckScheduler: cannot start after stop()');
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) this.schedule(entry);
  }

  /**
   * Clears the timers, aborts in-flight runs and waits for them (bounded), then closes every
   * check (each bounded). Final: the checks' connections are gone afterwards.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** The last result of every check, in registration order. Never waits. */
  results(): CheckResult[] {
    return [...this.entries.values()].map((e) => e.result);
  }

  /** The last result of one check. Never waits. */
  result(name: string): CheckResult | undefined {
    return this.entries.get(name)?.result;
  }

  stats(name: string): CheckStats | undefined {
    const e = this.entries.get(name);
    if (e === undefined) return undefined;
    return {
      running: e.flight !== undefined,
      runs: e.runs,
      skippedTicks: e.skippedTicks,
      timeouts: e.timeouts,
      statusSince: e.statusSince,
    };
  }

  /**
   * A fresh result: joins the run in flight or starts one. Still single-flight, and bounded by
   * the check's timeout. After `stop()`, or while a run overruns its deadline, returns the stored
   * result rather than start another run.
   */
  runNow(name: string): Promise<CheckResult>;
  runNow(): Promise<CheckResult[]>;
  runNow(name?: string): Promise<CheckResult | CheckResult[]> {
    if (name === undefined) return Promise.all([...this.entries.values()].map((e) => this.fresh(e)));
    const entry = this.entries.get(name);
    if (entry === undefined) return Promise.reject(new Error(`CheckScheduler: no check named "${name}"`));
    return this.fresh(entry);
  }

  /** Calls `listener` on every status change; returns a function that unsubscribes it. */
  onChange(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private schedule(entry: Entry): void {
    if (entry.flight === undefined) this.launch(entry);
    entry.timer = setInterval(() => this.tick(entry), entry.check.intervalMs);
    entry.timer.unref();
  }

  private tick(entry: Entry): void {
    if (this.stopping !== undefined) return;
    const flight = entry.flight;
    if (flight === undefined) {
      this.launch(entry);
      return;
    }
    entry.skippedTicks++;
    if (flight.overdue) {
      // Keep the fail current and say why no new run starts.
      const stuckS = Math.round((performance.now() - flight.startedAt) / 1000);
      entry.result = {
        ...entry.result,
        message: `timed out after ${entry.check.timeoutMs} ms; that run is still not finished after ${stuckS} s (the check ignores its abort signal)`,
        time: new Date().toISOString(),
      };
    }
  }

  private fresh(entry: Entry): Promise<CheckResult> {
    if (this.stopping !== undefined) return Promise.resolve(entry.result);
    const flight = entry.flight;
    if (flight !== undefined) return flight.overdue ? Promise.resolve(entry.result) : flight.result;
    return this.launch(entry).result;
  }

  private launch(entry: Entry): Flight {
    const { check } = entry;
    const controller = new AbortController();
    const startedAt = performance.now();
    let resolveResult!: (r: CheckResult) => void;
    const flight: Flight = {
      controller,
      startedAt,
      result: new Promise<CheckResult>((resolve) => {
        resolveResult = resolve;
      }),
      settled: Promise.resolve(),
      overdue: false,
    };
    let done = false;
    const finish = (partial: Partial<CheckResult> & { status: CheckStatus }): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      // After stop() the run was aborted by us, not by the dependency: keep the last real result.
      if (this.stopping !== undefined) resolveResult(entry.result);
      else resolveResult(this.record(entry, partial, performance.now() - startedAt));
    };
    const deadline = setTimeout(() => {
      entry.timeouts++;
      flight.overdue = true;
      // Recorded before aborting, so the check's reaction to the abort cannot win the race.
      finish({ status: 'fail', message: `timed out after ${check.timeoutMs} ms` });
      controller.abort(new TimeoutError(check.timeoutMs));
    }, check.timeoutMs);
    deadline.unref();

    entry.runs++;
    entry.flight = flight;
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(check.run(controller.signal));
    } catch (err) {
      work = Promise.reject(err);
    }
    // The slot is freed before the result is published, so a caller awaiting this run can start
    // the next one straight away.
    const free = (): void => {
      if (entry.flight === flight) entry.flight = undefined;
    };
    flight.settled = work.then(
      (partial) => {
        free();
        finish(validated(partial));
      },
      (err: unknown) => {
        free();
        finish({
          status: 'fail',
          message: controller.signal.aborted ? abortReason(controller.signal).message : errorMessage(err),
        });
      },
    );
    return flight;
  }

  private record(entry: Entry, partial: Partial<CheckResult> & { status: CheckStatus }, durationMs: number): CheckResult {
    const { check } = entry;
    const previous = entry.result;
    const current: CheckResult = {
      measurement: check.measurement ?? 'status',
      ...partial,
      name: check.name,
      component: check.component,
      time: new Date().toISOString(),
      durationMs: round(durationMs),
      required: check.required,
    };
    const first = entry.first;
    entry.first = false;
    entry.result = current;
    if (first || previous.status !== current.status) {
      if (previous.status !== current.status) entry.statusSince = current.time;
      this.emit({ name: check.name, previous, current, first });
    }
    return current;
  }

  private emit(change: StatusChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.onError(err, `onChange listener for "${change.name}"`);
      }
    }
  }

  private async shutdown(): Promise<void> {
    const entries = [...this.entries.values()];
    const settling: Promise<void>[] = [];
    for (const entry of entries) {
      clearInterval(entry.timer);
      entry.timer = undefined;
      if (entry.flight !== undefined) {
        entry.flight.controller.abort(new Error('scheduler stopped'));
        settling.push(entry.flight.settled);
      }
    }
    await bounded(settling, this.stopTimeoutMs);
    await bounded(
      entries.map(async ({ check }) => {
        try {
          await check.close?.();
        } catch (err) {
          this.onError(err, `close() of "${check.name}"`);
        }
      }),
      this.stopTimeoutMs,
    );
  }
}

/** A result from a check, coerced to something the endpoints can trust. */
function validated(partial: unknown): Partial<CheckResult> & { status: CheckStatus } {
  if (partial === null || typeof partial !== 'object') {
    return { status: 'fail', message: 'check returned no result' };
  }
  const p = partial as Partial<CheckResult>;
  if (typeof p.status !== 'string' || !STATUSES.has(p.status)) {
    return { ...p, status: 'fail', message: `check returned an invalid status: ${String(p.status)}` };
  }
  return p as Partial<CheckResult> & { status: CheckStatus };
}

/** Waits for all of `work`, but no longer than `ms`. */
async function bounded(work: Promise<unknown>[], ms: number): Promise<void> {
  if (work.length > 0) await settleWithin(Promise.allSettled(work), ms);
}
