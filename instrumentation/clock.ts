import { performance as perf } from 'node:perf_hooks';

/**
 * `performance.now()`, the hooks' monotonic clock in milliseconds, read through the perf_hooks
 * binding: the global `performance` is a lazy accessor on globalThis, and going through it on
 * every request measurably cost the host throughput (bench/README.md).
 */
export function now(): number {
  return perf.now();
}
