import type { DependencyResult, DependencySource } from '../service/health-service';
import type { UpstreamStats } from '../signals/snapshot';
import { formatValue } from '../grading/format';
import { gradeSubjects, type GradingOptions, type SubjectGrade } from '../grading/grade';
import { KPIS, upstreamReading, type KpiDefinition } from '../grading/kpis';
import type { CheckStatus } from './types';

/**
 * The passive upstream checks: one per model provider the app called, graded from those calls
 * (no probe traffic) with the upstream KPIs' own definitions and thresholds (the KPI table's
 * `upstreamTimeToFirstChunk` and `upstreamErrorRate`, as configured): the same grading as the KPI
 * rows, here grouped by provider under `/api/v1/health/integrations`.
 */
const UPSTREAM_KPIS: readonly KpiDefinition[] = KPIS.filter((d) => d.key === 'upstreamTimeToFirstChunk' || d.key === 'upstreamErrorRate');

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

function problem(def: KpiDefinition, g: SubjectGrade, options: GradingOptions): string {
  const t = options.thresholds[def.key];
  const limit = g.status === 'fail' ? t.fail : t.warn;
  const what = def.key === 'upstreamErrorRate' ? 'error rate' : 'time to first chunk p95';
  return `${g.model} ${what} ${formatValue(g.value!, def.unit)} > ${formatValue(limit, def.unit)}`;
}

/** One model's grade per upstream KPI that is on (aligned with `defs`); status undefined when not graded. */
function modelGrades(s: UpstreamStats, defs: readonly KpiDefinition[], options: GradingOptions): SubjectGrade[] {
  return defs.map((def) => gradeSubjects(def, options.thresholds[def.key], [upstreamReading(def.key as 'upstreamErrorRate', s)], options.minSamples).grades[0]!);
}

function enabledDefs(options: GradingOptions): KpiDefinition[] {
  return UPSTREAM_KPIS.filter((d) => options.disabled?.has(d.key) !== true);
}

/** One provider and model graded as its provider's check grades it: the status page's view of it (src/ui/upstream-view.ts). */
export interface ModelGrade {
  readonly status: CheckStatus;
  /** False: too few calls and first chunks in the window (the status is then pass). */
  readonly graded: boolean;
}

function worstOf(grades: readonly SubjectGrade[]): ModelGrade {
  let status: CheckStatus = 'pass';
  let graded = false;
  for (const g of grades) {
    if (g.status === undefined) continue;
    graded = true;
    if (RANK[g.status] > RANK[status]) status = g.status;
  }
  return { status, graded };
}

export function gradeModel(s: UpstreamStats, options: GradingOptions): ModelGrade {
  return worstOf(modelGrades(s, enabledDefs(options), options));
}

/** One passive check per provider seen (`model:<provider>`), the worst of its models; optional: it degrades, never fails the service. */
export function gradeUpstreams(stats: readonly UpstreamStats[], options: GradingOptions, at: Date): DependencyResult[] {
  const byProvider = new Map<string, UpstreamStats[]>();
  for (const s of stats) {
    const list = byProvider.get(s.provider) ?? [];
    list.push(s);
    byProvider.set(s.provider, list);
  }
  const defs = enabledDefs(options);
  const out: DependencyResult[] = [];
  for (const [provider, models] of byProvider) {
    const grades = models.map((m) => modelGrades(m, defs, options));
    const { status, graded } = worstOf(grades.flat());
    const problems: string[] = [];
    defs.forEach((def, d) => {
      for (const g of grades) if (g[d]!.status !== undefined && g[d]!.status !== 'pass') problems.push(problem(def, g[d]!, options));
    });
    const views: Record<string, Record<string, unknown>> = {};
    models.forEach((m, i) => {
      views[m.model] = {
        ...worstOf(grades[i]!),
        calls: m.calls,
        errors: m.errors,
        errorRate: m.calls > 0 ? m.errors / m.calls : null,
        timeToFirstChunkP50Ms: m.firstChunkP50 === undefined ? null : Math.round(m.firstChunkP50 * 1000),
        timeToFirstChunkP95Ms: m.firstChunkP95 === undefined ? null : Math.round(m.firstChunkP95 * 1000),
      };
    });
  let worstP95: number | undefined;
    for (const m of models) if (m.firstChunkP95 !== undefined && (worstP95 === undefined || m.firstChunkP95 > worstP95)) worstP95 = m.firstChunkP95;
    const t = options.thresholds;
    out.push({
      name: `model:${provider}`,
      component: 'integrations',
      measurement: 'p95',
      status,
      ...(worstP95 !== undefined ? { value: worstP95, unit: 's', display: formatValue(worstP95, 's') } : {}),
      threshold: `time to first chunk p95 ≤${formatValue(t.upstreamTimeToFirstChunk.warn, 's')}, error rate ≤${formatValue(t.upstreamErrorRate.warn, 'ratio')}`,
      ...(status !== 'pass'
        ? { message: problems.join('; ') }
        : graded
          ? {}
          : { message: `passive: fewer than ${options.minSamples} calls in the window, not graded` }),
      time: at.toISOString(),
      details: { passive: true, models: views },
      required: false,
    });
  }
  return out;
}

/** The dependency results with the passive upstream checks appended, from the stats `upstreams()` returns. */
export function withPassiveUpstreams(source: DependencySource, upstreams: () => readonly UpstreamStats[], options: GradingOptions): DependencySource {
  return {
    results: () => [...source.results(), ...gradeUpstreams(upstreams(), options, new Date())],
    start: () => source.start(),
    stop: () => source.stop(),
  };
}
