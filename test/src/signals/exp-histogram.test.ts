import { describe, expect, it } from 'vitest';
import { ExpHistogram } from '../../../src/signals/exp-histogram';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('ExpHistogram quantiles', () => {
  const distributions: Record<string, (r: () => number) => number> = {
    'log-normal latency': (r) => Math.exp(Math.log(0.4) + 0.6 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    'uniform 0–8 s': (r) => r() * 8,
    'bimodal cache hit/miss': (r) => (r() < 0.7 ? 0.02 + r() * 0.01 : 1.5 + r() * 2),
    'heavy tail': (r) => 0.1 / Math.pow(1 - r(), 1.5),
  };
  for (const [name, gen] of Object.entries(distributions)) {
    it(`p50/p95/p99 are within 2 % of the exact order statistic: ${name}`, () => {
      for (const seed of [1, 2, 3, 42, 1337]) {
        const r = prng(seed);
        const h = new ExpHistogram();
        const values: number[] = [];
        const n = 200 + Math.floor(r() * 5000);
        for (let i = 0; i < n; i++) {
          const v = gen(r);
          values.push(v);
          h.record(v);
        }
        for (const q of [0.5, 0.95, 0.99]) {
          const exact = exactQuantile(values, q);
          const got = h.quantile(q)!;
          expect(Math.abs(got - exact) / exact, `seed ${seed} q ${q}: got ${got}, exact ${exact}`).toBeLessThanOrEqual(0.02);
        }
      }
    });
  }

  it('handles zeros, extremes, merge and empty', () => {
    const a = new ExpHistogram();
    expect(a.quantile(0.95)).toBeUndefined();
    a.record(0);
    a.record(0);
    a.record(NaN);
    a.record(-1);
    expect(a.count).toBe(2);
    expect(a.quantile(0.5)).toBe(0);
    const b = new ExpHistogram();
    b.record(3);
    a.merge(b);
    expect(a.quantile(1)).toBe(3);
    expect(a.max).toBe(3);
  });
});
