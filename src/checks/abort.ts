/**
 * Bounding a check's work by an AbortSignal. Drivers (pg, ioredis) take no signal, so every await
 * in a check is raced against it; the abandoned operation's late outcome is swallowed so it can
 * never surface as an unhandled rejection.
 */

import { TimeoutError } from '../../common/errors';

/** The error a run's signal carries when its time is up (common/errors.ts). */
export { TimeoutError };

const noop = (): void => {};

/** The abort reason as an Error (a bare `abort()` gives a DOMException, which is one). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'aborted');
}

/** Settles like `work`, or rejects with the abort reason as soon as `signal` aborts. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(noop);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(noop);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export interface Deadline {
  /** Aborts when the parent aborts or `timeoutMs` passes, whichever is first. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (never negative). */
  remaining(): number;
  /** Clears the timer and the parent listener; call when the run ends. */
  dispose(): void;
}

/**
 * A signal bounded by both the caller's signal and the check's own timeout, so a check called
 * directly (not through the scheduler) with a signal that never aborts still ends on time.
 */
export function deadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const endsAt = performance.now() + timeoutMs;
  const onParent = (): void => controller.abort(parent.reason);
  const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
  timer.unref();
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    remaining: () => Math.max(0, endsAt - performance.now()),
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}
