import type { SignalSnapshot, UpstreamStats } from '../signals/snapshot';

import { kpiRow, type KpiDirection, type KpiKey, type KpiUnit } from './kpi-table';

export { DEFAULT_THRESHOLDS, KPI_TABLE, type KpiDirection, type KpiKey, type KpiThresholds, type KpiUnit } from './kpi-table';

/**
 * How each KPI of the KPI table (kpi-table.ts) is read from a snapshot and shown: its component
 * and measurement name in check results. Label, direction and unit come from the table.
 */
export interface KpiDefinition {
  readonly key: KpiKey;
  readonly label: string;
  readonly component: 'streaming' | 'cache' | 'system';
  readonly measurement: string;
  readonly direction: KpiDirection;
  readonly unit: KpiUnit;
  /** Rates and percentiles need samples; gauges do not. */
  readonly needsSamples: boolean;
  /** The value and the number of samples behind it; value undefined when nothing was observed. */
  read(s: SignalSnapshot): KpiReading;
  /**
   * Per-model KPIs (the table's `perModel`): one reading per provider and model the app called.
   * Each is graded on its own and the worst decides (grade.ts); `read` is then unused.
   */
  readSubjects?(s: SignalSnapshot): SubjectReading[];
}

export interface KpiReading {
  readonly value: number | undefined;
  readonly samples: number;
}

/** A per-model KPI's reading for one provider and model. */
export interface SubjectReading extends KpiReading {
  readonly provider: string;
  readonly model: string;
}

/** The upstream KPIs' reading of one provider and model: what both the KPI rows and the passive checks grade. */
export function upstreamReading(key: 'upstreamTimeToFirstChunk' | 'upstreamErrorRate', u: UpstreamStats): SubjectReading {
  return key === 'upstreamTimeToFirstChunk'
    ? { provider: u.provider, model: u.model, value: u.firstChunkP95, samples: u.firstChunks }
    : { provider: u.provider, model: u.model, value: u.calls > 0 ? u.errors / u.calls : undefined, samples: u.calls };
}

const upstreamSubjects = (key: 'upstreamTimeToFirstChunk' | 'upstreamErrorRate') => (s: SignalSnapshot) => (s.upstreams ?? []).map((u) => upstreamReading(key, u));

function rate(num: number, den: number): { value: number | undefined; samples: number } {
  return { value: den > 0 ? num / den : undefined, samples: den };
}

function cacheRate(s: SignalSnapshot, name: string) {
  const c = s.caches[name];
  return c === undefined ? { value: undefined, samples: 0 } : rate(c.hits, c.hits + c.misses);
}

const fromTable = (key: KpiKey) => {
  const r = kpiRow(key);
  return { key, label: r.label, direction: r.direction, unit: r.unit };
};

/** In the table's order. */
export const KPIS: readonly KpiDefinition[] = Object.freeze([
  {
    ...fromTable('timeToFirstToken'),
    component: 'streaming',
    measurement: 'timeToFirstToken.p95',
    needsSamples: true,
    read: (s) => ({ value: s.timeToFirstToken.p95, samples: s.timeToFirstToken.count }),
  },
  {
    ...fromTable('timeToFirstAudio'),
    component: 'streaming',
    measurement: 'timeToFirstAudio.p95',
    needsSamples: true,
    read: (s) => ({ value: s.timeToFirstAudio.p95, samples: s.timeToFirstAudio.count }),
  },
  {
    ...fromTable('completeResponse'),
    component: 'streaming',
    measurement: 'completeResponse.p95',
    needsSamples: true,
    read: (s) => ({ value: s.completeResponse.p95, samples: s.completeResponse.count }),
  },
  {
    ...fromTable('streamSuccessRate'),
    component: 'streaming',
    measurement: 'successRate',
    needsSamples: true,
    // Client aborts are the client's choice, not a failure of the service.
    read: (s) => rate(s.streams.completed, s.streams.completed + s.streams.failed),
  },
  {
    ...fromTable('errorRate'),
    component: 'streaming',
    measurement: 'errorRate',
    needsSamples: true,
    read: (s) => rate(s.requests.serverErrors, s.requests.total),
  },
  {
    ...fromTable('kbCacheHitRate'),
    component: 'cache',
    measurement: 'kb.hitRate',
    needsSamples: true,
    read: (s) => cacheRate(s, 'kb'),
  },
  {
    ...fromTable('ttsCacheHitRate'),
    component: 'cache',
    measurement: 'tts.hitRate',
    needsSamples: true,
    read: (s) => cacheRate(s, 'tts'),
  },
  {
    ...fromTable('activeStreams'),
    component: 'streaming',
    measurement: 'activeStreams',
    needsSamples: false,
    read: (s) => ({ value: s.activeStreamsBusiestInstance ?? s.activeStreams, samples: 1 }),
  },
  {
    ...fromTable('memory'),
    component: 'system',
    measurement: 'memory.utilization',
    needsSamples: false,
    read: (s) => ({ value: s.process?.memoryUtilization, samples: s.process === undefined ? 0 : 1 }),
  },
  {
    ...fromTable('cpu'),
    component: 'system',
    measurement: 'cpu.utilization',
    needsSamples: false,
    read: (s) => ({ value: s.process?.cpuUtilization, samples: s.process === undefined ? 0 : 1 }),
  },
  {
    ...fromTable('eventLoopDelay'),
    component: 'system',
    measurement: 'eventLoop.delay.p99',
    needsSamples: false,
    read: (s) => ({ value: s.process?.eventLoopDelayP99, samples: s.process === undefined ? 0 : 1 }),
  },
  {
    ...fromTable('upstreamTimeToFirstChunk'),
    component: 'streaming',
    measurement: 'upstream.timeToFirstChunk.p95',
    needsSamples: true,
    read: () => ({ value: undefined, samples: 0 }),
    readSubjects: upstreamSubjects('upstreamTimeToFirstChunk'),
  },
  {
    ...fromTable('upstreamErrorRate'),
    component: 'streaming',
    measurement: 'upstream.errorRate',
    needsSamples: true,
    read: () => ({ value: undefined, samples: 0 }),
    readSubjects: upstreamSubjects('upstreamErrorRate'),
  },
] satisfies KpiDefinition[]);

export const KPI_KEYS: readonly KpiKey[] = Object.freeze(KPIS.map((k) => k.key));
