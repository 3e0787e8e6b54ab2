import type { DependencyResult, DependencySource } from '../service/health-service';
import type { UpstreamStats, UpstreamWindow } from '../signals/upstream-window';
import type { CheckStatus } from './types';

/**
 * Upstream KPIs, graded from the model calls the app made (no probe traffic), with the thresholds
 * of the shipped alerts (ChatbotUpstreamTimeToFirstChunkHigh, ChatbotUpstreamErrorRateHigh).
 */
export const UPSTREAM_THRESHOLDS = Object.freeze({
  firstChunkP95: { warn: 1.28, fail: 2.56 },
  errorRate: { warn: 0.02, fail: 0.05 },
});

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

function above(value: number | undefined, t: { warn: number; fail: number }): CheckStatus {
  if (value === undefined) return 'pass';
  return value > t.fail ? 'fail' : value > t.warn ? 'warn' : 'pass';
}

/** One provider and model graded: the check's view of it, and the page's (src/ui/upstream-view.ts). */
export interface ModelGrade {
  readonly status: CheckStatus;
  /** False: too few calls and first chunks in the window (the status is then pass). */
  readonly graded: boolean;
  readonly view: Record<string, unknown>;
  readonly problems: string[];
}

export function gradeModel(s: UpstreamStats, minSamples: number): ModelGrade {
  const problems: string[] = [];
  const p95 = s.firstChunks >= minSamples ? s.firstChunkP95 : undefined;
  const errorRate = s.calls >= minSamples ? s.errors / s.calls : undefined;
  const t = above(p95, UPSTREAM_THRESHOLDS.firstChunkP95);
  const e = above(errorRate, UPSTREAM_THRESHOLDS.errorRate);
  if (t !== 'pass') problems.push(`${s.model} time to first chunk p95 ${Math.round(p95! * 1000)}ms > ${UPSTREAM_THRESHOLDS.firstChunkP95[t === 'fail' ? 'fail' : 'warn'] * 1000}ms`);
  if (e !== 'pass') problems.push(`${s.model} error rate ${(errorRate! * 100).toFixed(1)}% > ${UPSTREAM_THRESHOLDS.errorRate[e === 'fail' ? 'fail' : 'warn'] * 100}%`);
  const status = RANK[t] >= RANK[e] ? t : e;
  const graded = p95 !== undefined || errorRate !== undefined;
  return {
    status,
    graded,
    problems,
    view: {
      status,
      graded,
      calls: s.calls,
      errors: s.errors,
      errorRate: s.calls > 0 ? s.errors / s.calls : null,
      timeToFirstChunkP50Ms: s.firstChunkP50 === undefined ? null : Math.round(s.firstChunkP50 * 1000),
      timeToFirstChunkP95Ms: s.firstChunkP95 === undefined ? null : Math.round(s.firstChunkP95 * 1000),
    },
  };
}

/** One passive check per provider seen (`model:<provider>`), the worst of its models; optional: it degrades, never fails the service. */
export function gradeUpstreams(stats: readonly UpstreamStats[], minSamples: number, at: Date): DependencyResult[] {
  const byProvider = new Map<string, UpstreamStats[]>();
  for (const s of stats) {
    const list = byProvider.get(s.provider) ?? [];
    list.push(s);
    byProvider.set(s.provider, list);
  }
  const out: DependencyResult[] = [];
  for (const [provider, models] of byProvider) {
    let status: CheckStatus = 'pass';
    let worstP95: number | undefined;
    const problems: string[] = [];
    const details: Record<string, unknown> = {};
    for (const m of models) {
      const g = gradeModel(m, minSamples);
      if (RANK[g.status] > RANK[status]) status = g.status;
      problems.push(...g.problems);
      details[m.model] = g.view;
      if (m.firstChunkP95 !== undefined && (worstP95 === undefined || m.firstChunkP95 > worstP95)) worstP95 = m.firstChunkP95;
    }
    const graded = models.some((m) => m.calls >= minSamples || m.firstChunks >= minSamples);
    out.push({
      name: `model:${provider}`,
      component: 'integrations',
      measurement: 'p95',
      status,
      ...(worstP95 !== undefined ? { value: worstP95, unit: 's', display: `${Math.round(worstP95 * 1000)}ms` } : {}),
      threshold: `time to first chunk p95 ≤${UPSTREAM_THRESHOLDS.firstChunkP95.warn * 1000}ms, error rate ≤${UPSTREAM_THRESHOLDS.errorRate.warn * 100}%`,
      ...(status !== 'pass'
        ? { message: problems.join('; ') }
        : graded
          ? {}
          : { message: `passive: fewer than ${minSamples} calls in the window, not graded` }),
      time: at.toISOString(),
      details: { passive: true, models: details },
      required: false,
    });
  }
  return out;
}

/** The dependency results with the passive upstream checks appended. */
export function withPassiveUpstreams(source: DependencySource, window: UpstreamWindow, minSamples: number): DependencySource {
  return {
    results: () => [...source.results(), ...gradeUpstreams(window.stats(), minSamples, new Date())],
    start: () => source.start(),
    stop: async () => {
      window.close();
      await source.stop();
    },
  };
}
