import type { SignalSnapshot, LatencyStats } from '../signals/snapshot';

/** p50, p95, p99 in milliseconds; null when the window held no sample. */
export type Percentiles = readonly [p50: number | null, p95: number | null, p99: number | null];

/** One evaluation's worth of chart data. */
export interface HistoryPoint {
  /** Evaluation time, epoch ms. */
  readonly t: number;
  /** Time to first token, first audio, complete response (ms, over the window). */
  readonly firstToken: Percentiles;
  readonly firstAudio: Percentiles;
  readonly complete: Percentiles;
  /** Streams finished per second over the window (completed, failed or aborted). */
  readonly streamRate: number;
  /** Streams open at evaluation time. */
  readonly activeStreams: number;
}

const ms = (s: number | undefined): number | null => (s === undefined ? null : Math.round(s * 10_000) / 10);
const percentiles = (l: LatencyStats): Percentiles => [ms(l.p50), ms(l.p95), ms(l.p99)];

/** Streams finished per second over the snapshot's window. */
export function streamRate(s: SignalSnapshot): number {
  const finished = s.streams.completed + s.streams.failed + s.streams.aborted;
  return s.windowSeconds > 0 ? Math.round((finished / s.windowSeconds) * 1000) / 1000 : 0;
}

export function toPoint(s: SignalSnapshot, at: number): HistoryPoint {
  return {
    t: at,
    firstToken: percentiles(s.timeToFirstToken),
    firstAudio: percentiles(s.timeToFirstAudio),
    complete: percentiles(s.completeResponse),
    streamRate: streamRate(s),
    activeStreams: s.activeStreams,
  };
}

/**
 * The last `capacity` evaluations (default 120: ten minutes at the default 5 s interval), for the
 * status page's charts. A fixed-size ring: memory is bounded however long the service runs.
 */
export class MetricsHistory {
  private readonly ring: (HistoryPoint | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 120) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<HistoryPoint | undefined>(capacity);
  }

  /** Records one evaluation; a snapshot evaluated at the same time as the last point replaces it. */
  record(s: SignalSnapshot, at: number): void {
    const last = this.size > 0 ? this.ring[(this.next - 1 + this.capacity) % this.capacity] : undefined;
    if (last !== undefined && last.t === at) {
      this.ring[(this.next - 1 + this.capacity) % this.capacity] = toPoint(s, at);
      return;
    }
    this.ring[this.next] = toPoint(s, at);
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  get length(): number {
    return this.size;
  }

  /** Oldest first. */
  points(): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    for (let i = this.size; i >= 1; i--) out.push(this.ring[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}
