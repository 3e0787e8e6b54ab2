/**
 * A fixed-bucket histogram cell. Recording is a binary search and two additions: this is what
 * keeps the per-stream cost far below the SDK's per-call attribute hashing.
 */
export class HistogramCell {
  readonly boundaries: readonly number[];
  /** counts[i] holds values in (boundaries[i-1], boundaries[i]]; the last slot is +Inf. */
  readonly counts: Float64Array;
  /**
   * The boundaries as raw doubles for the search: the catalog's frozen arrays hold boxed numbers,
   * and a search over them compiled to a generic keyed load per step.
   */
  private readonly bounds: Float64Array;
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  constructor(boundaries: readonly number[]) {
    this.boundaries = boundaries;
    this.bounds = Float64Array.from(boundaries);
    this.counts = new Float64Array(boundaries.length + 1);
  }

  record(value: number): void {
    // Non-finite or negative durations come from clock anomalies; recording them would poison sums.
    if (!(value >= 0) || value === Infinity) return;
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= b[mid]!) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]! += 1;
    this.sum += value;
    this.count += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

/** A frozen copy of a cell, as the producer exports it. */
export interface HistogramSnapshot {
  readonly boundaries: readonly number[];
  readonly counts: number[];
  readonly sum: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

export function snapshotHistogram(cell: HistogramCell): HistogramSnapshot {
  return {
    boundaries: cell.boundaries,
    counts: Array.from(cell.counts),
    sum: cell.sum,
    count: cell.count,
    min: cell.min,
    max: cell.max,
  };
}
