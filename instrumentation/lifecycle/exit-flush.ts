import type { Runtime } from '../runtime';

/**
 * Flushes push exporters when the process is asked to stop, without changing how it stops.
 *
 * A SIGTERM listener suppresses Node's default action (terminate). So on the signal we flush,
 * bounded by `shutdownTimeoutMillis`, and then: if the app has its own listeners, they decide when
 * to exit (all our handles are unref'd, so we never hold the loop open); if it has none, we re-raise
 * the signal with our listener removed, and the process ends exactly as it would without us.
 */
export function flushOnExit(runtime: Runtime): () => void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of signals) process.removeListener(s, onSignal);
    const appHandles = process.listenerCount(signal) > 0;
    void runtime.shutdown().then(() => {
      if (!appHandles) process.kill(process.pid, signal);
    });
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
