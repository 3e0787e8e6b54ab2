import { log } from '../log';

let reported = 0;

/**
 * Runs instrumentation code that must never throw into the host application. Failures are
 * logged a few times at most, then dropped silently.
 */
export function safely<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void {
  try {
    fn(...args);
  } catch (err) {
    reportSuppressed(err);
  }
}

/** Logs a suppressed instrumentation failure, a few times at most. */
export function reportSuppressed(err: unknown): void {
  if (reported < 5) {
    reported++;
    log.warn(`instrumentation error suppressed: ${(err as Error)?.stack ?? String(err)}`);
  }
}
