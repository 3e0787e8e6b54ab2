/**
 * The instrumentation's own minimal logger: one line to stderr, prefixed, so warnings reach the
 * operator without touching the host app's logger or the global OpenTelemetry diag logger.
 */
export interface Log {
  warn(message: string): void;
  debug(message: string): void;
}

let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');
let debugEnabled = process.env.CHATPULSE_DEBUG === 'true' || process.env.DEBUG_MONITORING === 'true';

export const log: Log = {
  warn(message) {
    sink(`[chatpulse] warning: ${message}`);
  },
  debug(message) {
    if (debugEnabled) sink(`[chatpulse] debug: ${message}`);
  },
};

/** Tests capture lines here. */
export function setLogSink(fn: (line: string) => void, debug = debugEnabled): () => void {
  const prev = sink;
  const prevDebug = debugEnabled;
  sink = fn;
  debugEnabled = debug;
  return () => {
    sink = prev;
    debugEnabled = prevDebug;
  };
}
