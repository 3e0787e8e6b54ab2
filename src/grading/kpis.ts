import type { SignalSnapshot } from '../signals/snapshot';

/**
 * The streaming KPIs and how each is read from a snapshot. Direction says which way is bad:
 * `above` (latency, error rate, load) fails when the value exceeds the threshold, `below` (success
 * and hit rates) when it falls under it.
 */
export type KpiKey =
  | 'timeToFirstToken'
  | 'timeToFirstAudio'
  | 'completeResponse'
  | 'streamSuccessRate'
  | 'errorRate'
  | 'kbCacheHitRate'
  | 'ttsCacheHitRate'
  | 'activeStreams'
  | 'memory'
  | 'cpu'
  | 'eventLoopDelay';

export type KpiUnit = 's' | 'ratio' | 'count';

export interface KpiThresholds {
  /** The healthy target (seed 004's "Target"); informational. */
  readonly target: number;
  readonly warn: number;
  readonly fail: number;
}

export interface KpiDefinition {
  readonly key: KpiKey;
  readonly label: string;
  readonly component: 'streaming' | 'cache' | 'system';
  readonly measurement: string;
  readonly direction: 'above' | 'below';
  readonly unit: KpiUnit;
  /** Rates and percentiles need samples; gauges do not. */
  readonly needsSamples: boolean;
  /** The value and the number of samples behind it; value undefined when nothing was observed. */
  read(s: SignalSnapshot): { value: number | undefined; samples: number };
}

function rate(num: number, den: number): { value: number | undefined; samples: number } {
  return { value: den > 0 ? num / den : undefined, samples: den };
}

function cacheRate(s: SignalSnapshot, name: string) {
  const c = s.caches[name];
  return c === undefined ? { value: undefined, samples: 0 } : rate(c.hits, c.hits + c.misses);
}

/** Seed 004's KPIs, plus event-loop delay. */
export const KPIS: readonly KpiDefinition[] = Object.freeze([
  {
    key: 'timeToFirstToken',
    label: 'Time to first token (p95)',
    component: 'streaming',
    measurement: 'timeToFirstToken.p95',
    direction: 'above',
    unit: 's',
    needsSamples: true,
    read: (s) => ({ value: s.timeToFirstToken.p95, samples: s.timeToFirstToken.count }),
  },
  {
    key: 'timeToFirstAudio',
    label: 'Time to first audio (p95)',
    component: 'streaming',
    measurement: 'timeToFirstAudio.p95',
    direction: 'above',
    unit: 's',
    needsSamples: true,
    read: (s) => ({ value: s.timeToFirstAudio.p95, samples: s.timeToFirstAudio.count }),
  },
  {
    key: 'completeResponse',
    label: 'Complete response (p95)',
    component: 'streaming',
    measurement: 'completeResponse.p95',
    direction: 'above',
    unit: 's',
    needsSamples: true,
    read: (s) => ({ value: s.completeResponse.p95, samples: s.completeResponse.count }),
  },
  {
    key: 'streamSuccessRate',
    label: 'Stream success rate',
    component: 'streaming',
    measurement: 'successRate',
    direction: 'below',
    unit: 'ratio',
    needsSamples: true,
    // Client aborts are the client's choice, not a failure of the service.
    read: (s) => rate(s.streams.completed, s.streams.completed + s.streams.failed),
  },
  {
    key: 'errorRate',
    label: 'Error rate',
    component: 'streaming',
    measurement: 'errorRate',
    direction: 'above',
    unit: 'ratio',
    needsSamples: true,
    read: (s) => rate(s.requests.serverErrors, s.requests.total),
  },
  {
    key: 'kbCacheHitRate',
    label: 'KB cache hit rate',
    component: 'cache',
    measurement: 'kb.hitRate',
    direction: 'below',
    unit: 'ratio',
    needsSamples: true,
    read: (s) => cacheRate(s, 'kb'),
  },
  {
    key: 'ttsCacheHitRate',
    label: 'TTS cache hit rate',
    component: 'cache',
    measurement: 'tts.hitRate',
    direction: 'below',
    unit: 'ratio',
    needsSamples: true,
    read: (s) => cacheRate(s, 'tts'),
  },
  {
    key: 'activeStreams',
    label: 'Active streams',
    component: 'streaming',
    measurement: 'activeStreams',
    direction: 'above',
    unit: 'count',
    needsSamples: false,
    read: (s) => ({ value: s.activeStreamsBusiestInstance ?? s.activeStreams, samples: 1 }),
  },
  {
    key: 'memory',
    label: 'Memory usage',
    component: 'system',
    measurement: 'memory.utilization',
    direction: 'above',
    unit: 'ratio',
    needsSamples: false,
    read: (s) => ({ value: s.process?.memoryUtilization, samples: s.process === undefined ? 0 : 1 }),
  },
  {
    key: 'cpu',
    label: 'CPU usage',
    component: 'system',
    measurement: 'cpu.utilization',
    direction: 'above',
    unit: 'ratio',
    needsSamples: false,
    read: (s) => ({ value: s.process?.cpuUtilization, samples: s.process === undefined ? 0 : 1 }),
  },
  {
    key: 'eventLoopDelay',
    label: 'Event-loop delay (p99)',
    component: 'system',
    measurement: 'eventLoop.delay.p99',
    direction: 'above',
    unit: 's',
    needsSamples: false,
    read: (s) => ({ value: s.process?.eventLoopDelayP99, samples: s.process === undefined ? 0 : 1 }),
  },
] satisfies KpiDefinition[]);

/** Seed 004's thresholds (event-loop delay: Node.js practice, 100 ms warn, 500 ms fail). */
export const DEFAULT_THRESHOLDS: Readonly<Record<KpiKey, KpiThresholds>> = Object.freeze({
  timeToFirstToken: { target: 0.5, warn: 1, fail: 2 },
  timeToFirstAudio: { target: 1.5, warn: 2, fail: 3 },
  completeResponse: { target: 3, warn: 5, fail: 8 },
  streamSuccessRate: { target: 0.99, warn: 0.98, fail: 0.95 },
  errorRate: { target: 0.01, warn: 0.02, fail: 0.05 },
  kbCacheHitRate: { target: 0.6, warn: 0.4, fail: 0.2 },
  ttsCacheHitRate: { target: 0.5, warn: 0.3, fail: 0.1 },
  activeStreams: { target: 100, warn: 200, fail: 500 },
  memory: { target: 0.7, warn: 0.8, fail: 0.9 },
  cpu: { target: 0.7, warn: 0.8, fail: 0.9 },
  eventLoopDelay: { target: 0.05, warn: 0.1, fail: 0.5 },
});

export const KPI_KEYS: readonly KpiKey[] = Object.freeze(KPIS.map((k) => k.key));
