import type { HealthReport } from '../../service/health-service';
import type { FirstTokenBreakdown, OutputStats } from '../../signals/snapshot';
import { formatUptime, latencyMs, percent } from '../formats';
import { kpiBody } from './health';

/** Pure view builders of the streaming-metrics resource (see views/health.ts). */

/** `/api/metrics/health/streaming`: every KPI and dependency as a check. */
export function streamingHealthView(r: HealthReport): Record<string, unknown> {
  const checks: Record<string, unknown> = kpiBody(r.kpis);
  for (const d of r.dependencies) checks[d.name] = { status: d.status, value: d.status === 'fail' ? 'disconnected' : 'connected', ...(d.message ? { message: d.message } : {}) };
  return { success: true, status: r.status, timestamp: r.timestamp, checks, issues: r.issues };
}

/** `/api/metrics/streaming`: the window's counts, latencies, caches and errors. */
export function streamingMetricsView(r: HealthReport): Record<string, unknown> {
  const s = r.snapshot;
  const finished = s.streams.completed + s.streams.failed + s.streams.aborted;
  const totalErrors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  return {
    success: true,
    timestamp: r.timestamp,
    metrics: {
      windowSeconds: s.windowSeconds,
      uptime: r.uptimeSeconds,
      uptimeFormatted: formatUptime(r.uptimeSeconds),
      requests: {
        total: s.requests.total,
        successful: s.requests.total - s.requests.serverErrors,
        failed: s.requests.serverErrors,
        active: s.activeStreams,
        successRate: percent(s.requests.total - s.requests.serverErrors, s.requests.total),
      },
      latency: { firstToken: latencyMs(s.timeToFirstToken), firstAudio: latencyMs(s.timeToFirstAudio), complete: latencyMs(s.completeResponse) },
      cache: Object.fromEntries(Object.entries(s.caches).map(([k, c]) => [k, { hits: c.hits, misses: c.misses, hitRate: percent(c.hits, c.hits + c.misses) }])),
      errors: { ...s.errors, breakdown: Object.fromEntries(Object.entries(s.errors).map(([k, n]) => [k, percent(n, totalErrors)])) },
      streaming: { totalStreams: finished, activeCount: s.activeStreams, completedCount: s.streams.completed, errorCount: s.streams.failed, abortedCount: s.streams.aborted },
      output: outputView(s.output),
      firstTokenBreakdown: breakdownView(s.firstTokenBreakdown),
    },
  };
}

/**
 * Chunk rate and token usage of the window's streams: chunks per stream, the time between them
 * (and chunks per second at the median spacing), tokens reported; null where nothing was measured.
 */
export function outputView(o: OutputStats | undefined): Record<string, unknown> | undefined {
  if (o === undefined) return undefined;
  const gap = o.timePerChunk;
  const medianGap = gap.count > 0 ? gap.p50 : undefined;
  return {
    streams: o.streams,
    chunks: o.chunks,
    chunksPerStream: o.streams > 0 ? Math.round((o.chunks / o.streams) * 10) / 10 : null,
    timePerChunkMs: latencyMs(gap),
    chunksPerSecond: medianGap !== undefined && medianGap > 0 ? Math.round((1 / medianGap) * 10) / 10 : null,
    tokens: { input: o.tokens.input, output: o.tokens.output, streamsReporting: o.tokens.streams },
  };
}

/**
 * Per route, where the first token's time went, for the streams that waited on a model call: the
 * mean ms of the app before the call, the model to its first chunk, the app after it (they add
 * up to `firstTokenMs`), and the model's share of it. Empty when none did (or it is switched off).
 */
export function breakdownView(b: Readonly<Record<string, FirstTokenBreakdown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ms = (s: number) => Math.round(s * 10_000) / 10;
  for (const [route, r] of Object.entries(b ?? {})) {
    const total = r.appBeforeModel + r.model + r.appAfterModel;
    out[route] = {
      streams: r.streams,
      appBeforeModelMs: ms(r.appBeforeModel),
      modelMs: ms(r.model),
      appAfterModelMs: ms(r.appAfterModel),
      firstTokenMs: ms(total),
      modelShare: percent(r.model, total),
    };
  }
  return out;
}

/** `/api/metrics/streaming/summary`: the headline numbers. */
export function streamingSummaryView(r: HealthReport): Record<string, unknown> {
  const s = r.snapshot;
  const hit = (name: string) => {
    const c = s.caches[name];
    return c === undefined ? null : percent(c.hits, c.hits + c.misses);
  };
  return {
    success: true,
    timestamp: r.timestamp,
    summary: {
      uptime: formatUptime(r.uptimeSeconds),
      totalRequests: s.requests.total,
      successRate: percent(s.streams.completed, s.streams.completed + s.streams.failed),
      activeStreams: s.activeStreams,
      p95FirstTokenLatency: latencyMs(s.timeToFirstToken).p95,
      p95CompleteLatency: latencyMs(s.completeResponse).p95,
      cacheHitRate: { kb: hit('kb'), tts: hit('tts') },
      errorCount: Object.values(s.errors).reduce((a, b) => a + b, 0),
    },
  };
}
