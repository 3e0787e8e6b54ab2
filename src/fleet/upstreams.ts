import { GENAI_OVERFLOW } from '../../instrumentation/metrics/catalog';
import type { UpstreamStats } from '../signals/snapshot';
import { roundCount, type Sample } from './instance-table';

/** The query results the fleet's upstream stats are built from (fleetQueries().upstreams). */
export interface UpstreamSamples {
  readonly calls: readonly Sample[];
  readonly errors: readonly Sample[];
  readonly firstChunks: readonly Sample[];
  readonly firstChunkP95: readonly Sample[];
  readonly firstChunkP50: readonly Sample[];
}

const keyOf = (s: Sample) => `${s.labels.gen_ai_provider_name ?? ''}\0${s.labels.gen_ai_request_model ?? ''}`;

/**
 * The fleet's model calls by provider and request model (every instance together), as the
 * in-process window has them for the upstream KPIs: calls and errors over the window (the app's
 * own cancels left out, as in the recording rules), streamed calls with a first chunk, and the
 * merged histogram's p50 / p95. A call without a request model is `_OTHER` here (in-process it is
 * its response model, which the fleet's series do not group by).
 */
export function fleetUpstreams(q: UpstreamSamples): UpstreamStats[] {
  const rows = new Map<string, { provider: string; model: string; calls: number; errors: number; firstChunks: number; p95?: number; p50?: number }>();
  const row = (s: Sample) => {
    const k = keyOf(s);
    let r = rows.get(k);
    if (r === undefined) {
      const model = s.labels.gen_ai_request_model;
      r = { provider: s.labels.gen_ai_provider_name ?? GENAI_OVERFLOW, model: model === undefined || model === '' ? GENAI_OVERFLOW : model, calls: 0, errors: 0, firstChunks: 0 };
      rows.set(k, r);
    }
    return r;
  };
  for (const s of q.calls) row(s).calls += s.value;
  for (const s of q.errors) row(s).errors += s.value;
  for (const s of q.firstChunks) row(s).firstChunks += s.value;
  const finite = (v: number) => (Number.isFinite(v) ? v : undefined);
  for (const s of q.firstChunkP95) if (rows.has(keyOf(s))) row(s).p95 = finite(s.value);
  for (const s of q.firstChunkP50) if (rows.has(keyOf(s))) row(s).p50 = finite(s.value);
  const out: UpstreamStats[] = [];
  for (const r of rows.values()) {
    const calls = roundCount(r.calls);
    const firstChunks = roundCount(r.firstChunks);
    if (calls === 0 && firstChunks === 0) continue;
    out.push({
      provider: r.provider,
      model: r.model,
      calls,
      errors: Math.min(roundCount(r.errors), calls),
      firstChunks,
      firstChunkP95: firstChunks > 0 ? r.p95 : undefined,
      firstChunkP50: firstChunks > 0 ? r.p50 : undefined,
    });
  }
  return out;
}
