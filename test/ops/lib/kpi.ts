/**
 * The KPI table (src/grading/kpi-table.ts) as the ops tests check it, and where each alerted KPI
 * shows up in the shipped artifacts.
 */
import { KPI_TABLE, type KpiDirection, type KpiKey, type KpiTableRow } from '../../../src/grading/kpi-table';

export type Direction = KpiDirection;

export interface TableKpi {
  readonly key: KpiKey;
  readonly direction: Direction;
  /** In base units: seconds for latencies, a 0..1 ratio for percentages, a count otherwise. */
  readonly warning: number;
  readonly critical: number;
}

function toTableKpi(r: KpiTableRow): TableKpi {
  return { key: r.key, direction: r.direction, warning: r.warn, critical: r.fail };
}

/** The KPIs the shipped Prometheus rules and dashboards carry (every row marked `alerted`). */
export function alertedKpis(): TableKpi[] {
  return KPI_TABLE.filter((r) => r.alerted).map(toTableKpi);
}

/** Where each alerted KPI is implemented. */
export interface KpiBinding {
  readonly kpi: KpiKey;
  readonly alert: string;
  /** The overview stat panel showing the KPI with its thresholds. */
  readonly statPanel: string;
  /** Time-series panels drawing the KPI's thresholds (with the override name for a multi-KPI panel). */
  readonly timeseriesPanels: readonly { title: string; override?: string }[];
}

export const KPI_BINDINGS: readonly KpiBinding[] = [
  { kpi: 'timeToFirstToken', alert: 'ChatbotTimeToFirstTokenHigh', statPanel: 'Time to first token p95', timeseriesPanels: [{ title: 'Time to first token p50 / p95 / p99' }] },
  { kpi: 'timeToFirstAudio', alert: 'ChatbotTimeToFirstAudioHigh', statPanel: 'First audio p95', timeseriesPanels: [{ title: 'First audio p95 by route' }] },
  { kpi: 'completeResponse', alert: 'ChatbotResponseDurationHigh', statPanel: 'Complete response p95', timeseriesPanels: [{ title: 'Complete response p95 by route' }] },
  { kpi: 'streamSuccessRate', alert: 'ChatbotStreamSuccessRateLow', statPanel: 'Stream success rate', timeseriesPanels: [{ title: 'Stream success rate by route' }] },
  { kpi: 'errorRate', alert: 'ChatbotErrorRateHigh', statPanel: 'Error rate (5xx)', timeseriesPanels: [{ title: 'Error rate (5xx) by route' }] },
  { kpi: 'kbCacheHitRate', alert: 'ChatbotKbCacheHitRateLow', statPanel: 'KB cache hit rate', timeseriesPanels: [{ title: 'Cache hit rate', override: 'kb' }] },
  { kpi: 'ttsCacheHitRate', alert: 'ChatbotTtsCacheHitRateLow', statPanel: 'TTS cache hit rate', timeseriesPanels: [{ title: 'Cache hit rate', override: 'tts' }] },
  { kpi: 'activeStreams', alert: 'ChatbotActiveStreamsHigh', statPanel: 'Active streams per process', timeseriesPanels: [{ title: 'Active streams by instance' }] },
  { kpi: 'memory', alert: 'ChatbotMemoryUtilizationHigh', statPanel: 'Memory utilization', timeseriesPanels: [{ title: 'Memory utilization by instance' }] },
  { kpi: 'cpu', alert: 'ChatbotCpuUtilizationHigh', statPanel: 'CPU utilization (5m avg)', timeseriesPanels: [{ title: 'CPU utilization by instance' }] },
  {
    kpi: 'upstreamTimeToFirstChunk',
    alert: 'ChatbotUpstreamTimeToFirstChunkHigh',
    statPanel: 'Model time to first chunk p95 (worst model)',
    timeseriesPanels: [{ title: 'Model time to first chunk p50 / p95 by model' }],
  },
  { kpi: 'upstreamErrorRate', alert: 'ChatbotUpstreamErrorRateHigh', statPanel: 'Model error rate (worst provider)', timeseriesPanels: [{ title: 'Model call error rate by provider' }] },
];

/** Grafana threshold steps for a KPI: green/orange/red for "above", red/orange/green for "below". */
export function expectedSteps(k: TableKpi): { color: string; value: number | null }[] {
  return k.direction === 'above'
    ? [
        { color: 'green', value: null },
        { color: 'orange', value: k.warning },
        { color: 'red', value: k.critical },
      ]
    : [
        { color: 'red', value: null },
        { color: 'orange', value: k.critical },
        { color: 'green', value: k.warning },
      ];
}
