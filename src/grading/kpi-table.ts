/**
 * The KPI table: every KPI Chatpulse grades, with its unit, its bad direction and its default
 * target / warning / failure thresholds. This is the one place these numbers live. The health
 * service's defaults are derived from it; the Grafana dashboards' thresholds, the Prometheus
 * alert rules and the README's KPI table are tested against it (test/ops, test/src/grading).
 *
 * Values are in base units: seconds for latencies, a 0..1 ratio for rates and utilisations, a
 * count for active streams.
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
  | 'eventLoopDelay'
  | 'upstreamTimeToFirstChunk'
  | 'upstreamErrorRate';

export type KpiUnit = 's' | 'ratio' | 'count';

/** Which way is bad: `above` fails when the value exceeds the threshold, `below` when it falls under it. */
export type KpiDirection = 'above' | 'below';

export interface KpiThresholds {
  /** The healthy target; informational (grading uses warn and fail). */
  readonly target: number;
  readonly warn: number;
  readonly fail: number;
}

export interface KpiTableRow extends KpiThresholds {
  readonly key: KpiKey;
  readonly label: string;
  readonly unit: KpiUnit;
  readonly direction: KpiDirection;
  /**
   * Whether the shipped Prometheus rules alert on it and the overview dashboard draws its
   * thresholds. Event-loop delay is graded by the health service only.
   */
  readonly alerted: boolean;
  /**
   * Graded for each model provider and model the app called (the worst pair decides and is named),
   * from the model calls' GenAI client metrics; latency thresholds sit on the GenAI bucket edges.
   */
  readonly perModel?: boolean;
}

const row = (r: KpiTableRow): KpiTableRow => Object.freeze(r);

export const KPI_TABLE: readonly KpiTableRow[] = Object.freeze([
  row({ key: 'timeToFirstToken', label: 'Time to first token (p95)', unit: 's', direction: 'above', target: 0.5, warn: 1, fail: 2, alerted: true }),
  row({ key: 'timeToFirstAudio', label: 'Time to first audio (p95)', unit: 's', direction: 'above', target: 1.5, warn: 2, fail: 3, alerted: true }),
  row({ key: 'completeResponse', label: 'Complete response (p95)', unit: 's', direction: 'above', target: 3, warn: 5, fail: 8, alerted: true }),
  // completed / (completed + failed): a client abort is the client's choice, not a failure.
  row({ key: 'streamSuccessRate', label: 'Stream success rate', unit: 'ratio', direction: 'below', target: 0.99, warn: 0.98, fail: 0.95, alerted: true }),
  // 5xx responses / requests.
  row({ key: 'errorRate', label: 'Error rate', unit: 'ratio', direction: 'above', target: 0.01, warn: 0.02, fail: 0.05, alerted: true }),
  row({ key: 'kbCacheHitRate', label: 'KB cache hit rate', unit: 'ratio', direction: 'below', target: 0.6, warn: 0.4, fail: 0.2, alerted: true }),
  row({ key: 'ttsCacheHitRate', label: 'TTS cache hit rate', unit: 'ratio', direction: 'below', target: 0.5, warn: 0.3, fail: 0.1, alerted: true }),
  // Per process (the busiest instance in fleet mode).
  row({ key: 'activeStreams', label: 'Active streams', unit: 'count', direction: 'above', target: 100, warn: 200, fail: 500, alerted: true }),
  row({ key: 'memory', label: 'Memory usage', unit: 'ratio', direction: 'above', target: 0.7, warn: 0.8, fail: 0.9, alerted: true }),
  row({ key: 'cpu', label: 'CPU usage', unit: 'ratio', direction: 'above', target: 0.7, warn: 0.8, fail: 0.9, alerted: true }),
  // Node.js practice: 100 ms of event-loop delay is felt by every stream, 500 ms stalls them.
  row({ key: 'eventLoopDelay', label: 'Event-loop delay (p99)', unit: 's', direction: 'above', target: 0.05, warn: 0.1, fail: 0.5, alerted: false }),
  // The model APIs the app calls, per provider and model (ChatbotUpstream* alerts): from the
  // request to the first output chunk, and failed calls / calls (the app's own cancels left out).
  row({ key: 'upstreamTimeToFirstChunk', label: 'Model time to first chunk (p95)', unit: 's', direction: 'above', target: 0.64, warn: 1.28, fail: 2.56, alerted: true, perModel: true }),
  row({ key: 'upstreamErrorRate', label: 'Model error rate', unit: 'ratio', direction: 'above', target: 0.01, warn: 0.02, fail: 0.05, alerted: true, perModel: true }),
]);

/** The table's thresholds by key: the health service's defaults. */
export const DEFAULT_THRESHOLDS: Readonly<Record<KpiKey, KpiThresholds>> = Object.freeze(
  Object.fromEntries(KPI_TABLE.map((r) => [r.key, Object.freeze({ target: r.target, warn: r.warn, fail: r.fail })])) as Record<KpiKey, KpiThresholds>,
);

export function kpiRow(key: KpiKey): KpiTableRow {
  const r = KPI_TABLE.find((x) => x.key === key);
  if (r === undefined) throw new RangeError(`unknown KPI ${key}`);
  return r;
}
