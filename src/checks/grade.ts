import type { CheckStatus } from './types';

/** A warn and a fail level for one measurement. */
export interface Thresholds {
  readonly warn: number;
  readonly fail: number;
}

/** Grades a value where higher is worse (utilization, latency). */
export function gradeHigh(value: number, t: Thresholds): CheckStatus {
  if (!Number.isFinite(value)) return 'warn';
  if (value >= t.fail) return 'fail';
  if (value >= t.warn) return 'warn';
  return 'pass';
}

/** Grades a value where lower is worse (free disk space). */
export function gradeLow(value: number, t: Thresholds): CheckStatus {
  if (!Number.isFinite(value)) return 'warn';
  if (value <= t.fail) return 'fail';
  if (value <= t.warn) return 'warn';
  return 'pass';
}

/** The worse of two statuses. */
export function worst(a: CheckStatus, b: CheckStatus): CheckStatus {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

/**
 * Merges user thresholds over defaults and rejects inverted ones at construction time, so a typo
 * shows up at startup rather than as a check that can never warn.
 */
export function thresholds(
  label: string,
  defaults: Thresholds,
  given: Partial<Thresholds> | undefined,
  direction: 'high' | 'low',
): Thresholds {
  const t = { warn: given?.warn ?? defaults.warn, fail: given?.fail ?? defaults.fail };
  if (!Number.isFinite(t.warn) || !Number.isFinite(t.fail)) {
    throw new RangeError(`${label}: thresholds must be finite numbers`);
  }
  if (direction === 'high' ? t.warn > t.fail : t.warn < t.fail) {
    throw new RangeError(
      `${label}: warn (${t.warn}) must be ${direction === 'high' ? 'at most' : 'at least'} fail (${t.fail})`,
    );
  }
  return t;
}
