import { gradeModel } from '../checks/passive-upstreams';
import type { GradingOptions } from '../grading/grade';
import type { UpstreamStats } from '../signals/upstream-window';

/** One provider and model the app called, over the health window, as the "Model calls" panel shows it. */
export interface UpstreamView {
  readonly provider: string;
  readonly model: string;
  /** Calls that ended in the window (the app's own cancels not counted). */
  readonly calls: number;
  readonly errors: number;
  /** errors / calls; null without calls. */
  readonly errorRate: number | null;
  /** Time to first chunk of streamed calls, ms; null without one in the window. */
  readonly firstChunkP50Ms: number | null;
  readonly firstChunkP95Ms: number | null;
  /** As the passive `model:<provider>` check grades this model (same thresholds, same samples). */
  readonly status: 'pass' | 'warn' | 'fail';
  /** False: too few calls in the window to grade (the status is then pass and the page says so). */
  readonly graded: boolean;
}

// 0.1 ms, like the page's other latencies.
const ms = (s: number | undefined) => (s === undefined ? null : Math.round(s * 10_000) / 10);

export function upstreamView(s: UpstreamStats, grading: GradingOptions): UpstreamView {
  const g = gradeModel(s, grading);
  return {
    provider: s.provider,
    model: s.model,
    calls: s.calls,
    errors: s.errors,
    errorRate: s.calls > 0 ? s.errors / s.calls : null,
    firstChunkP50Ms: ms(s.firstChunkP50),
    firstChunkP95Ms: ms(s.firstChunkP95),
    status: g.status,
    graded: g.graded,
  };
}

/** Every provider and model, sorted by provider then model: rows stay put between snapshots. */
export function upstreamViews(stats: readonly UpstreamStats[], grading: GradingOptions): UpstreamView[] {
  return stats
    .map((s) => upstreamView(s, grading))
    .sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
}
