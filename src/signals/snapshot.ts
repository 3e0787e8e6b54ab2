/** Latency distribution over the window, in seconds. */
export interface LatencyStats {
  readonly count: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
}

/**
 * What the grading reads: the service's signals over the sliding window. Produced in-process from
 * the instrumentation (SlidingWindow) or, for a fleet, from Prometheus (PromQL).
 */
export interface SignalSnapshot {
  readonly windowSeconds: number;
  readonly timeToFirstToken: LatencyStats;
  readonly timeToFirstAudio: LatencyStats;
  /** Complete response latency: duration of streams that completed. */
  readonly completeResponse: LatencyStats;
  readonly streams: { readonly completed: number; readonly failed: number; readonly aborted: number };
  readonly requests: { readonly total: number; readonly serverErrors: number };
  readonly caches: Readonly<Record<string, { readonly hits: number; readonly misses: number }>>;
  readonly errors: Readonly<Record<string, number>>;
  /** Streams open now (for a fleet: on all instances together). */
  readonly activeStreams: number;
  /**
   * For a fleet: the most streams open on one instance. The active-streams thresholds are per
   * process, so this is what they grade; in-process it is absent and `activeStreams` is graded.
   */
  readonly activeStreamsBusiestInstance?: number;
  /** Process gauges now (for a fleet: the worst instance). */
  readonly process?: {
    readonly memoryUtilization: number;
    readonly cpuUtilization: number;
    readonly eventLoopDelayP99: number;
  };
  /** Instances behind the numbers (1 in-process). */
  readonly instances: number;
  /** What the streams produced: content chunks, their spacing, the usage they reported (in-process). */
  readonly output?: OutputStats;
  /** Per route: streams' first token split around the model call they waited for (in-process). */
  readonly firstTokenBreakdown?: Readonly<Record<string, FirstTokenBreakdown>>;
  /** The model calls the app made, by provider and model (a fleet: every instance's together; absent when none). */
  readonly upstreams?: readonly UpstreamStats[];
  /** For a fleet: each instance's own signals, graded like the fleet's (absent in-process). */
  readonly perInstance?: readonly InstanceSignals[];
}

/** Content chunks and token usage of the streams that ended in the window. */
export interface OutputStats {
  /** Streams that ended with at least one content chunk. */
  readonly streams: number;
  readonly chunks: number;
  /** Mean time between content chunks per stream (streams with two or more), in seconds. */
  readonly timePerChunk: LatencyStats;
  /** Tokens the streams reported of themselves, and how many streams reported them. */
  readonly tokens: { readonly input: number; readonly output: number; readonly streams: number };
}

/**
 * The first-token breakdown of one route over the window: of its streams that waited on a model
 * call, the mean seconds of each phase (they add up to those streams' mean time to first token).
 */
export interface FirstTokenBreakdown {
  readonly streams: number;
  /** Request arrival to the model call's start. */
  readonly appBeforeModel: number;
  /** The call's start to its first output chunk (the upstream time to first chunk). */
  readonly model: number;
  /** The model's first chunk to the stream's first token. */
  readonly appAfterModel: number;
}

/** What the window holds for one model provider and model the app called. */
export interface UpstreamStats {
  readonly provider: string;
  readonly model: string;
  /** Calls that ended in the window, not counting those the app cancelled itself. */
  readonly calls: number;
  readonly errors: number;
  /** Streamed calls with a first output chunk in the window. */
  readonly firstChunks: number;
  readonly firstChunkP95: number | undefined;
  readonly firstChunkP50: number | undefined;
}

/** One instance of a fleet: its Prometheus `job` and `instance` labels and its own signals. */
export interface InstanceSignals {
  /** How the instance is named: its `instance` label (`job/instance` when two jobs share one). */
  readonly id: string;
  readonly job: string;
  readonly instance: string;
  /** False: it reported within the window but reports nothing now (stopped, crashed, unscraped). */
  readonly reporting: boolean;
  readonly snapshot: SignalSnapshot;
}

/** A snapshot with nothing in it: what grading sees before any signal arrived. */
export function emptySnapshot(windowSeconds: number): SignalSnapshot {
  return {
    windowSeconds,
    timeToFirstToken: { count: 0 },
    timeToFirstAudio: { count: 0 },
    completeResponse: { count: 0 },
    streams: { completed: 0, failed: 0, aborted: 0 },
    requests: { total: 0, serverErrors: 0 },
    caches: {},
    errors: {},
    activeStreams: 0,
    instances: 0,
  };
}
