/**
 * A base-2 exponential histogram (the OpenTelemetry exponential bucket layout) at a fixed scale.
 * At scale 6 adjacent bucket bounds differ by 2^(1/64) ≈ 1.1 %, so a quantile reported as the
 * bucket's geometric middle is within 0.55 % of the exact order statistic: explicit buckets
 * cannot promise that, and the health grading's p95 must be accurate to 2 %.
 */
export const SCALE = 6;
const FACTOR = 2 ** SCALE;

export class ExpHistogram {
  /** bucket index → count; bucket i holds (2^(i/64), 2^((i+1)/64)]. */
  readonly buckets = new Map<number, number>();
  zeroCount = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  record(value: number): void {
    if (!(value >= 0) || value === Infinity) return;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) {
      this.zeroCount++;
      return;
    }
    const idx = Math.ceil(Math.log2(value) * FACTOR) - 1;
    this.buckets.set(idx, (this.buckets.get(idx) ?? 0) + 1);
  }

  merge(other: ExpHistogram): void {
    for (const [i, c] of other.buckets) this.buckets.set(i, (this.buckets.get(i) ?? 0) + c);
    this.zeroCount += other.zeroCount;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** Nearest-rank quantile (q in (0, 1]); undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank <= this.zeroCount) return 0;
    let seen = this.zeroCount;
    const indexes = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const i of indexes) {
      seen += this.buckets.get(i)!;
      if (seen >= rank) {
        const mid = 2 ** ((i + 0.5) / FACTOR);
        // The extremes are known exactly; never report beyond them.
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  clear(): void {
    this.buckets.clear();
    this.zeroCount = 0;
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}
