import { performance as perf } from 'node:perf_hooks';

/**
 * `performance.now()`, the hooks' monotonic clock in milliseconds, read through the perf_hooks
 * export rather than the global `performance`, a lazy accessor on globalThis. One module, so the
 * hooks share one clock; a read costs ~60 ns either way here (bench/README.md).
 */
export function now(): number {
  return perf.now();
}
