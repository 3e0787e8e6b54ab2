import type { CacheResult, StreamOutcome } from '../metrics/catalog';
import { TrackedStream } from '../streams/tracked-stream';
import { globalRecorder } from '../runtime';
import { safely } from '../hooks/safely';

/** A stream the app reports itself (WebSocket, gRPC, custom transports). */
export interface StreamHandle {
  /** Marks the first token; later calls are ignored. */
  firstToken(): void;
  /** Marks the first audio chunk; later calls are ignored. */
  firstAudio(): void;
  /** Ends the stream; later calls are ignored. Default outcome: `completed`. */
  end(outcome?: StreamOutcome): void;
}

export interface StartStreamOptions {
  /** Low-cardinality route or channel name, e.g. `/ws/chat`. Default: `unmatched`. */
  readonly route?: string;
  /** `performance.now()` when the request arrived, if earlier than this call. */
  readonly startedAt?: number;
}

const OUTCOMES: ReadonlySet<string> = new Set(['completed', 'failed', 'aborted']);

// A handle dropped without end() would leak its active count: end it as failed when collected.
const leaked = new FinalizationRegistry<TrackedStream>((stream) => safely(() => stream.end('failed')));

/** Starts a manually reported stream: counted active until `end`. Never throws. */
export function startStream(options: StartStreamOptions = {}): StreamHandle {
  let stream: TrackedStream | undefined;
  safely(() => {
    const recorder = globalRecorder();
    const startedAt = typeof options.startedAt === 'number' ? options.startedAt : performance.now();
    stream = new TrackedStream(recorder, recorder.route(options.route), startedAt);
  });
  const handle: StreamHandle = {
    firstToken: () => safely(() => stream?.firstToken()),
    firstAudio: () => safely(() => stream?.firstAudio()),
    end: (outcome = 'completed') =>
      safely(() => {
        if (stream === undefined) return;
        leaked.unregister(handle);
        stream.end(OUTCOMES.has(outcome) ? outcome : 'failed');
      }),
  };
  if (stream !== undefined) leaked.register(handle, stream, handle);
  return handle;
}

/** Records a cache lookup for caches outside Redis (`hit` may be a boolean). Never throws. */
export function recordCacheLookup(cache: string, result: CacheResult | boolean, count = 1): void {
  safely(() => {
    if (typeof cache !== 'string' || cache === '') return;
    const r: CacheResult = result === true || result === 'hit' ? 'hit' : 'miss';
    if (Number.isFinite(count) && count > 0) globalRecorder().cacheLookup(cache, r, count);
  });
}

/** Counts an error of a documented class (`llm`, `tts`, `network`, …; anything else is `other`). Never throws. */
export function recordError(type: string): void {
  safely(() => globalRecorder().error(typeof type === 'string' ? type.toLowerCase() : 'other'));
}
