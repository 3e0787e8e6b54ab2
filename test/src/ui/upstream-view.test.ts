/** The "Model calls" rows: each provider and model with its numbers, graded as the passive check grades it. */
import { describe, expect, it } from 'vitest';
import { gradeUpstreams } from '../../../src/checks/passive-upstreams';
import type { UpstreamStats } from '../../../src/signals/upstream-window';
import { DEFAULT_THRESHOLDS } from '../../../src/grading/kpi-table';
import { upstreamView, upstreamViews } from '../../../src/ui/upstream-view';

/** As the health service grades them: the KPI table's thresholds, `minSamples` calls needed. */
const grading = (minSamples: number) => ({ thresholds: DEFAULT_THRESHOLDS, minSamples });

const stats = (o: Partial<UpstreamStats>): UpstreamStats => ({
  provider: 'openai',
  model: 'gpt-4o-mini',
  calls: 40,
  errors: 0,
  firstChunks: 40,
  firstChunkP50: 0.31234,
  firstChunkP95: 0.5,
  ...o,
});

describe('upstreamView', () => {
  it('gives calls, errors, error rate and first-chunk p50/p95 in ms (0.1 ms)', () => {
    expect(upstreamView(stats({ errors: 1 }), grading(5))).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      calls: 40,
      errors: 1,
      errorRate: 0.025,
      firstChunkP50Ms: 312.3,
      firstChunkP95Ms: 500,
      status: 'warn',
      graded: true,
    });
  });

  it('grades with the passive check’s thresholds: a slow first chunk warns, then fails', () => {
    expect(upstreamView(stats({ firstChunkP95: 1.2 }), grading(5)).status).toBe('pass');
    expect(upstreamView(stats({ firstChunkP95: 1.5 }), grading(5)).status).toBe('warn');
    expect(upstreamView(stats({ firstChunkP95: 3 }), grading(5)).status).toBe('fail');
    expect(upstreamView(stats({ errors: 3 }), grading(5)).status).toBe('fail'); // 7.5 % > 5 %
  });

  it('is not graded below the minimum sample count, and says null for what was not measured', () => {
    const v = upstreamView(stats({ calls: 2, errors: 2, firstChunks: 0, firstChunkP50: undefined, firstChunkP95: undefined }), grading(5));
    expect(v).toMatchObject({ status: 'pass', graded: false, errorRate: 1, firstChunkP50Ms: null, firstChunkP95Ms: null });
    expect(upstreamView(stats({ calls: 0, errors: 0, firstChunks: 0, firstChunkP50: undefined, firstChunkP95: undefined }), grading(5)).errorRate).toBeNull();
  });

  it('agrees with the model:<provider> check on the worst model', () => {
    const all = [stats({ model: 'a' }), stats({ model: 'b', firstChunkP95: 1.5 })];
    const [check] = gradeUpstreams(all, grading(5), new Date());
    expect(check!.status).toBe('warn');
    expect(upstreamViews(all, grading(5)).map((v) => v.status)).toEqual(['pass', 'warn']);
  });
});

describe('upstreamViews', () => {
  it('sorts by provider, then model, so rows stay put between snapshots', () => {
    const rows = upstreamViews([stats({ provider: 'openai', model: 'b' }), stats({ provider: 'anthropic', model: 'z' }), stats({ provider: 'openai', model: 'a' })], grading(5));
    expect(rows.map((r) => `${r.provider}/${r.model}`)).toEqual(['anthropic/z', 'openai/a', 'openai/b']);
  });
});
