import type { ErrorType, StreamOutcome } from '../../instrumentation/metrics/catalog';
import type { Recorder } from '../../instrumentation/metrics/recorder';
import { CATEGORIES, LEVELS, SOURCES, type Category, type Level, type Source } from './types';

/**
 * Error tracking: every error the service sees, counted in time buckets by category, level and
 * source, plus the slowest response per bucket (for the response-time rule) and a ring of the
 * most recent errors (for alert descriptions).
 *
 * Memory is bounded whatever the traffic: a bucket is one fixed-size counter array, buckets not yet
 * handed to the store are capped (`maxPendingBuckets`; the oldest are dropped and counted), and the
 * recent-error ring has a fixed length. Recording is O(1) and never throws: it runs inside the
 * instrumentation's hooks.
 *
 * Sources and their mapping (documented in docs/alerts.md):
 *
 * | chatbot.errors type | category    | level   |
 * | ------------------- | ----------- | ------- |
 * | llm                 | llm         | error   |
 * | tts                 | tts         | error   |
 * | network, timeout    | network     | error   |
 * | validation          | validation  | warning |
 * | database            | database    | error   |
 * | cache               | integration | error   |
 * | http, other         | system      | error   |
 *
 * Streams: `failed` → system/error, `aborted` (the client went away) → network/warning, both with
 * source `stream`. Every failed stream the instrumentation sees has already counted a
 * chatbot.errors error (the HTTP hook counts `http` for a failed stream without a classified
 * error), so the default "high error rate" rule excludes source `stream` rather than count a
 * failure twice. HTTP answers 401 and 403 → authentication/warning, source `http`.
 */

export const ERROR_TYPE_MAPPING: Readonly<Record<ErrorType, { category: Category; level: Level }>> = Object.freeze({
  llm: { category: 'llm', level: 'error' },
  tts: { category: 'tts', level: 'error' },
  network: { category: 'network', level: 'error' },
  timeout: { category: 'network', level: 'error' },
  validation: { category: 'validation', level: 'warning' },
  database: { category: 'database', level: 'error' },
  cache: { category: 'integration', level: 'error' },
  http: { category: 'system', level: 'error' },
  other: { category: 'system', level: 'error' },
});

const NC = CATEGORIES.length;
const NL = LEVELS.length;
const NS = SOURCES.length;
const CELLS = NC * NL * NS;
const CAT_INDEX = new Map<string, number>(CATEGORIES.map((c, i) => [c, i]));
const LEVEL_INDEX = new Map<string, number>(LEVELS.map((l, i) => [l, i]));
const SOURCE_INDEX = new Map<string, number>(SOURCES.map((s, i) => [s, i]));

/** One row of counts: how many errors of a category/level/source started in the bucket. */
export interface ErrorCountRow {
  /** Bucket start, epoch ms. */
  readonly bucket: number;
  readonly category: Category;
  readonly level: Level;
  readonly source: Source;
  readonly count: number;
}

/** Responses finished in a bucket and the slowest of them. */
export interface LatencyRow {
  readonly bucket: number;
  readonly responses: number;
  readonly maxSeconds: number;
}

export interface ErrorSample {
  readonly at: string;
  readonly category: Category;
  readonly level: Level;
  readonly source: Source;
  readonly message: string;
}

export interface ErrorLogOptions {
  /** Bucket width. Default 10 s: rule windows are counted in whole buckets. */
  readonly bucketMs?: number;
  /** Buckets kept while the store cannot take them (e.g. Postgres down). Default 360 (1 h). */
  readonly maxPendingBuckets?: number;
  /** Recent errors kept for descriptions. Default 100. */
  readonly recentSize?: number;
  readonly now?: () => number;
  /** Called (synchronously, must not throw) for every critical error: the caller evaluates at once. */
  readonly onCritical?: () => void;
}

export const MAX_MESSAGE = 500;

export class ErrorLog {
  readonly bucketMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly onCritical: (() => void) | undefined;
  private pending = new Map<number, Uint32Array>();
  private latency = new Map<number, { responses: number; maxSeconds: number }>();
  private readonly recentRing: (ErrorSample | undefined)[];
  private recentNext = 0;
  /** Buckets dropped because the store did not take them in time. */
  droppedBuckets = 0;

  constructor(options: ErrorLogOptions = {}) {
    this.bucketMs = options.bucketMs ?? 10_000;
    this.maxPending = options.maxPendingBuckets ?? 360;
    this.now = options.now ?? Date.now;
    this.onCritical = options.onCritical;
    this.recentRing = new Array(options.recentSize ?? 100);
  }

  bucketOf(t: number): number {
    return t - (t % this.bucketMs);
  }

  /** Counts one error. Never throws; unknown categories count as `system`, unknown levels as `error`. */
  record(category: string, level: string, source: Source, message?: string): void {
    try {
      const c = CAT_INDEX.get(category) ?? 0;
      const l = LEVEL_INDEX.get(level) ?? 1;
      const s = SOURCE_INDEX.get(source) ?? SOURCE_INDEX.get('manual')!;
      const t = this.now();
      const b = this.bucketOf(t);
      let cells = this.pending.get(b);
      if (cells === undefined) {
        cells = new Uint32Array(CELLS);
        this.pending.set(b, cells);
        this.trim(this.pending);
      }
      cells[(c * NL + l) * NS + s]! += 1;
      if (message !== undefined || source !== 'metric') {
        this.recentRing[this.recentNext] = {
          at: new Date(t).toISOString(),
          category: CATEGORIES[c]!,
          level: LEVELS[l]!,
          source: SOURCES[s]!,
          message: (message ?? '').slice(0, MAX_MESSAGE),
        };
        this.recentNext = (this.recentNext + 1) % this.recentRing.length;
      }
      if (l === 2) this.onCritical?.();
    } catch {
      // Error tracking must never hurt the code that reports the error.
    }
  }

  /** Records a finished response's duration (seconds). */
  recordLatency(seconds: number): void {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) return;
    const b = this.bucketOf(this.now());
    let cell = this.latency.get(b);
    if (cell === undefined) {
      cell = { responses: 0, maxSeconds: 0 };
      this.latency.set(b, cell);
      this.trim(this.latency);
    }
    cell.responses += 1;
    if (seconds > cell.maxSeconds) cell.maxSeconds = seconds;
  }

  private trim(map: Map<number, unknown>): void {
    while (map.size > this.maxPending) {
      const oldest = Math.min(...map.keys());
      map.delete(oldest);
      this.droppedBuckets++;
    }
  }

  /** Subscribes to the instrumentation: chatbot.errors, stream outcomes, 401/403 answers, durations. */
  attach(recorder: Recorder): () => void {
    return recorder.addListener({
      onError: (type: ErrorType) => {
        const m = ERROR_TYPE_MAPPING[type] ?? ERROR_TYPE_MAPPING.other;
        this.record(m.category, m.level, 'metric');
      },
      onStreamEnd: (route: string, outcome: StreamOutcome, seconds: number) => {
        this.recordLatency(seconds);
        if (outcome === 'failed') this.record('system', 'error', 'stream', `stream on ${route} failed after ${round(seconds)} s`);
        else if (outcome === 'aborted') this.record('network', 'warning', 'stream', `stream on ${route} aborted by the client after ${round(seconds)} s`);
      },
      onHttpRequest: (method: string, route: string, status: number, seconds: number) => {
        this.recordLatency(seconds);
        if (status === 401 || status === 403) this.record('authentication', 'warning', 'http', `${method} ${route} answered ${status}`);
      },
    });
  }

  /** Takes the counts not yet handed to the store. */
  drain(): { errors: ErrorCountRow[]; latency: LatencyRow[] } {
    const errors: ErrorCountRow[] = [];
    for (const [bucket, cells] of this.pending) {
      for (let i = 0; i < CELLS; i++) {
        const count = cells[i]!;
        if (count === 0) continue;
        const s = i % NS;
        const l = Math.floor(i / NS) % NL;
        const c = Math.floor(i / (NS * NL));
        errors.push({ bucket, category: CATEGORIES[c]!, level: LEVELS[l]!, source: SOURCES[s]!, count });
      }
    }
    const latency: LatencyRow[] = [...this.latency].map(([bucket, v]) => ({ bucket, responses: v.responses, maxSeconds: v.maxSeconds }));
    this.pending = new Map();
    this.latency = new Map();
    return { errors, latency };
  }

  /** Puts drained counts back (the store was unreachable), merged with anything recorded since. */
  restore(d: { errors: readonly ErrorCountRow[]; latency: readonly LatencyRow[] }): void {
    for (const r of d.errors) {
      let cells = this.pending.get(r.bucket);
      if (cells === undefined) {
        cells = new Uint32Array(CELLS);
        this.pending.set(r.bucket, cells);
      }
      cells[(CAT_INDEX.get(r.category)! * NL + LEVEL_INDEX.get(r.level)!) * NS + SOURCE_INDEX.get(r.source)!]! += r.count;
    }
    for (const r of d.latency) {
      const cell = this.latency.get(r.bucket);
      if (cell === undefined) this.latency.set(r.bucket, { responses: r.responses, maxSeconds: r.maxSeconds });
      else {
        cell.responses += r.responses;
        cell.maxSeconds = Math.max(cell.maxSeconds, r.maxSeconds);
      }
    }
    this.trim(this.pending);
    this.trim(this.latency);
  }

  /** Most recent errors first (those with a message: streams, auth failures, dependencies, manual). */
  recent(limit = 10): ErrorSample[] {
    const out: ErrorSample[] = [];
    const n = this.recentRing.length;
    for (let i = 1; i <= n && out.length < limit; i++) {
      const s = this.recentRing[(this.recentNext - i + n) % n];
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  get pendingBuckets(): number {
    return this.pending.size + this.latency.size;
  }
}

function round(s: number): number {
  return Math.round(s * 1000) / 1000;
}
