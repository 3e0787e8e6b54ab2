import type { InstanceSignals, LatencyStats, SignalSnapshot } from '../signals/snapshot';

/** One sample of an instant query's vector. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * increase() extrapolates to the window's edges, so a counter that grew by 57 reads 57.3. Counts
 * are whole numbers: round to the nearest, and treat what is not a finite non-negative number as 0.
 */
export function roundCount(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) || v < 0 ? 0 : Math.round(v);
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/** Adds what is a finite number (NaN from an empty rate() counts as nothing). */
const add = (a: number, v: number) => (Number.isFinite(v) ? a + v : a);

type LatencyKey = 'timeToFirstToken' | 'timeToFirstAudio' | 'completeResponse';
const LATENCIES: readonly LatencyKey[] = ['timeToFirstToken', 'timeToFirstAudio', 'completeResponse'];

/** Raw (unrounded) sums of one instance. */
interface Row {
  readonly job: string;
  readonly instance: string;
  reporting: boolean;
  readonly counts: Record<LatencyKey, number>;
  readonly p95: Partial<Record<LatencyKey, number>>;
  readonly streams: { completed: number; failed: number; aborted: number };
  total: number;
  serverErrors: number;
  readonly caches: Record<string, { hits: number; misses: number }>;
  active: number;
  memory?: number;
  cpu?: number;
  loop?: number;
}

/** The fleet-wide quantiles, from `sum by (le)` (percentiles cannot be merged from instances'). */
export type FleetQuantiles = Record<LatencyKey, { p50?: number; p95?: number; p99?: number }>;

/**
 * The answers of the fleet's queries, every one grouped by (job, instance), gathered per
 * instance. The fleet's numbers are derived from the instances' — counts summed before rounding
 * (the same as PromQL's sum()), active streams summed, process gauges the worst instance — so
 * one query per KPI serves both, however many instances there are.
 */
export class InstanceTable {
  private readonly rows = new Map<string, Row>();

  /** The row of a sample's (job, instance), created on first sight. */
  private row(labels: Readonly<Record<string, string>>): Row {
    const job = labels.job ?? '';
    const instance = labels.instance ?? '';
    const key = `${job}\u0000${instance}`;
    let r = this.rows.get(key);
    if (r === undefined) {
      r = {
        job,
        instance,
        reporting: false,
        counts: { timeToFirstToken: 0, timeToFirstAudio: 0, completeResponse: 0 },
        p95: {},
        streams: { completed: 0, failed: 0, aborted: 0 },
        total: 0,
        serverErrors: 0,
        caches: {},
        active: 0,
      };
      this.rows.set(key, r);
    }
    return r;
  }

  latencyCounts(kpi: LatencyKey, samples: readonly Sample[]): void {
    for (const s of samples) {
      const r = this.row(s.labels);
      r.counts[kpi] = add(r.counts[kpi], s.value);
    }
  }

  latencyP95(kpi: LatencyKey, samples: readonly Sample[]): void {
    for (const s of samples) {
      const v = finite(s.value);
      if (v !== undefined) this.row(s.labels).p95[kpi] = v;
    }
  }

  streams(samples: readonly Sample[]): void {
    for (const s of samples) {
      const o = s.labels.chatbot_stream_outcome;
      if (o !== 'completed' && o !== 'failed' && o !== 'aborted') continue;
      const r = this.row(s.labels);
      r.streams[o] = add(r.streams[o], s.value);
    }
  }

  requests(total: readonly Sample[], serverErrors: readonly Sample[]): void {
    for (const s of total) {
      const r = this.row(s.labels);
      r.total = add(r.total, s.value);
    }
    for (const s of serverErrors) {
      const r = this.row(s.labels);
      r.serverErrors = add(r.serverErrors, s.value);
    }
  }

  caches(samples: readonly Sample[]): void {
    for (const s of samples) {
      const name = s.labels.chatbot_cache_name;
      const result = s.labels.chatbot_cache_result;
      if (name === undefined || (result !== 'hit' && result !== 'miss')) continue;
      const c = (this.row(s.labels).caches[name] ??= { hits: 0, misses: 0 });
      if (result === 'hit') c.hits = add(c.hits, s.value);
      else c.misses = add(c.misses, s.value);
    }
  }

  activeStreams(samples: readonly Sample[]): void {
    for (const s of samples) {
      const r = this.row(s.labels);
      r.active = add(r.active, s.value);
    }
  }

  /** Memory utilisation now: an instance with a current sample is reporting. */
  memory(samples: readonly Sample[]): void {
    for (const s of samples) {
      const r = this.row(s.labels);
      r.reporting = true;
      r.memory = finite(s.value);
    }
  }

  cpu(samples: readonly Sample[]): void {
    for (const s of samples) this.row(s.labels).cpu = finite(s.value);
  }

  eventLoopDelayP99(samples: readonly Sample[]): void {
    for (const s of samples) this.row(s.labels).loop = finite(s.value);
  }

  /** Instances that reported within the window (now or not). */
  seen(samples: readonly Sample[]): void {
    for (const s of samples) this.row(s.labels);
  }

  /** The fleet's snapshot, with every instance's own. */
  snapshot(windowSeconds: number, quantiles: FleetQuantiles, errors: Readonly<Record<string, number>>): SignalSnapshot {
    const rows = [...this.rows.values()];
    const sum = (f: (r: Row) => number) => roundCount(rows.reduce((a, r) => a + f(r), 0));
    const latency = (k: LatencyKey): LatencyStats => {
      const count = sum((r) => r.counts[k]);
      if (count === 0) return { count: 0 };
      const q = quantiles[k];
      return { count, ...(q.p50 !== undefined ? { p50: q.p50 } : {}), ...(q.p95 !== undefined ? { p95: q.p95 } : {}), ...(q.p99 !== undefined ? { p99: q.p99 } : {}) };
    };
    const caches: Record<string, { hits: number; misses: number }> = {};
    for (const r of rows) {
      for (const [name, c] of Object.entries(r.caches)) {
        const f = (caches[name] ??= { hits: 0, misses: 0 });
        f.hits += c.hits;
        f.misses += c.misses;
      }
    }
    const fleetCaches = roundCaches(caches);
    const worst = (f: (r: Row) => number | undefined) => {
      let m: number | undefined;
      for (const r of rows) {
        const v = f(r);
        if (v !== undefined && (m === undefined || v > m)) m = v;
      }
      return m;
    };
    const mem = worst((r) => r.memory);
    const cpu = worst((r) => r.cpu);
    const loop = worst((r) => r.loop);
    const perInstance = this.instances(windowSeconds);
    return {
      windowSeconds,
      timeToFirstToken: latency('timeToFirstToken'),
      timeToFirstAudio: latency('timeToFirstAudio'),
      completeResponse: latency('completeResponse'),
      streams: { completed: sum((r) => r.streams.completed), failed: sum((r) => r.streams.failed), aborted: sum((r) => r.streams.aborted) },
      requests: { total: sum((r) => r.total), serverErrors: sum((r) => r.serverErrors) },
      caches: fleetCaches,
      errors,
      activeStreams: sum((r) => r.active),
      activeStreamsBusiestInstance: rows.reduce((m, r) => Math.max(m, roundCount(r.active)), 0),
      process: mem === undefined && cpu === undefined && loop === undefined ? undefined : { memoryUtilization: mem ?? 0, cpuUtilization: cpu ?? 0, eventLoopDelayP99: loop ?? 0 },
      instances: rows.filter((r) => r.reporting).length,
      perInstance,
    };
  }

  private instances(windowSeconds: number): InstanceSignals[] {
    const rows = [...this.rows.values()].sort((a, b) => a.instance.localeCompare(b.instance) || a.job.localeCompare(b.job));
    // The instance label names an instance, unless two jobs scrape the same address.
    const jobsOf = new Map<string, number>();
    for (const r of rows) jobsOf.set(r.instance, (jobsOf.get(r.instance) ?? 0) + 1);
    return rows.map((r) => {
      const latency = (k: LatencyKey): LatencyStats => {
        const count = roundCount(r.counts[k]);
        const p95 = r.p95[k];
        return count === 0 ? { count: 0 } : p95 === undefined ? { count } : { count, p95 };
      };
      const id = r.instance === '' ? r.job || '(no instance label)' : (jobsOf.get(r.instance) ?? 0) > 1 ? `${r.job}/${r.instance}` : r.instance;
      const hasProcess = r.memory !== undefined || r.cpu !== undefined || r.loop !== undefined;
      const snapshot: SignalSnapshot = {
        windowSeconds,
        timeToFirstToken: latency('timeToFirstToken'),
        timeToFirstAudio: latency('timeToFirstAudio'),
        completeResponse: latency('completeResponse'),
        streams: { completed: roundCount(r.streams.completed), failed: roundCount(r.streams.failed), aborted: roundCount(r.streams.aborted) },
        requests: { total: roundCount(r.total), serverErrors: roundCount(r.serverErrors) },
        caches: roundCaches(r.caches),
        errors: {},
        activeStreams: roundCount(r.active),
        process: hasProcess ? { memoryUtilization: r.memory ?? 0, cpuUtilization: r.cpu ?? 0, eventLoopDelayP99: r.loop ?? 0 } : undefined,
        instances: r.reporting ? 1 : 0,
      };
      return { id, job: r.job, instance: r.instance, reporting: r.reporting, snapshot };
    });
  }
}

/** Rounded; as in-process, a cache appears once it had a lookup in the window. */
function roundCaches(raw: Readonly<Record<string, { hits: number; misses: number }>>): Record<string, { hits: number; misses: number }> {
  const out: Record<string, { hits: number; misses: number }> = {};
  for (const [name, c] of Object.entries(raw)) {
    const hits = roundCount(c.hits);
    const misses = roundCount(c.misses);
    if (hits + misses > 0) out[name] = { hits, misses };
  }
  return out;
}
