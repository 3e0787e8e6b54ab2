import type { Recorder } from '../../instrumentation/metrics/recorder';

export function activeStreams(recorder: Recorder): number {
  let n = 0;
  for (const s of recorder.streamsActive.all()) n += s.value;
  return n;
}

/** Resolves when no stream is open, or after `timeoutMs`, whichever comes first. */
export function drainStreams(recorder: Recorder, timeoutMs: number, pollMs = 50): Promise<{ drained: boolean; open: number }> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      const open = activeStreams(recorder);
      if (open <= 0) return resolve({ drained: true, open: 0 });
      if (Date.now() >= deadline) return resolve({ drained: false, open });
      setTimeout(tick, pollMs).unref();
    };
    tick();
  });
}
