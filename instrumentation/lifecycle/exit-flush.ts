import type { Runtime } from '../runtime';

export interface ShutdownSteps {
  /** Runs first, at once on the signal (e.g. readiness turns 503). */
  readonly begin?: () => void;
  /** Awaited before flushing (e.g. open streams drain, bounded by its own timeout). */
  readonly drain?: () => Promise<void>;
}

/**
 * Flushes push exporters (and drains, when the health service asks) when the process is asked to
 * stop, without changing how it stops.
 *
 * A SIGTERM listener suppresses Node's default action (terminate). So on the signal we run the
 * steps and flush, bounded, and then: if the app has its own listeners, they decide when to exit
 * (all our handles are unref'd, so we never hold the loop open); if it has none, we re-raise the
 * signal with our listener removed, and the process ends exactly as it would without us.
 */
export function flushOnExit(runtime: Runtime, steps: ShutdownSteps = {}): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of signals) process.removeListener(s, onSignal);
    const appHandles = process.listenerCount(signal) > 0;
    try {
      steps.begin?.();
    } catch {
      // Shutdown must proceed whatever a step does.
    }
    void (async () => {
      try {
        await steps.drain?.();
      } catch {
        // as above
      }
      await runtime.shutdown();
      if (!appHandles) process.kill(process.pid, signal);
    })();
  };
  let flushedBeforeExit = false;
  const onBeforeExit = () => {
    if (flushedBeforeExit) return;
    flushedBeforeExit = true;
    // The loop is empty: the final export keeps it busy just long enough, then exit proceeds.
    void runtime.shutdown();
  };
  for (const s of signals) process.on(s, onSignal);
  process.on('beforeExit', onBeforeExit);
  return () => {
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
  };
}
