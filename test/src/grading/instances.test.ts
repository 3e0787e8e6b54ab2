/**
 * Per-instance grading: the fleet's thresholds and minimum samples applied to each instance's
 * snapshot, worst first, and a failing fleet KPI naming its worst instances with their values.
 * (Against a real Prometheus: test/src/fleet/fleet-health.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { gradeKpis } from '../../../src/grading/grade';
import { gradeInstances, nameWorstInstances, summarizeInstance } from '../../../src/grading/instances';
import { DEFAULT_THRESHOLDS } from '../../../src/grading/kpis';
import { emptySnapshot, type InstanceSignals, type SignalSnapshot } from '../../../src/signals/snapshot';

const options = { thresholds: DEFAULT_THRESHOLDS, minSamples: 20 };

function instance(id: string, p95: number, count: number, extra: Partial<SignalSnapshot> = {}, reporting = true): InstanceSignals {
  return {
    id,
    job: 'fleet',
    instance: id,
    reporting,
    snapshot: {
      ...emptySnapshot(60),
      timeToFirstToken: { count, p95 },
      streams: { completed: count, failed: 0, aborted: 0 },
      requests: { total: count, serverErrors: 0 },
      instances: reporting ? 1 : 0,
      process: { memoryUtilization: 0.3, cpuUtilization: 0.1, eventLoopDelayP99: 0.01 },
      ...extra,
    },
  };
}

describe('gradeInstances', () => {
  it('grades each instance with the same thresholds and minimum samples; worst first; a stopped one is missing', () => {
    const grades = gradeInstances(
      [
        instance('10.0.0.1:9464', 0.11, 30),
        instance('10.0.0.2:9464', 2.95, 30),
        instance('10.0.0.3:9464', 1.2, 30),
        instance('10.0.0.4:9464', 5, 19), // too few samples: not graded, like the fleet's
        instance('10.0.0.5:9464', 0.2, 30, {}, false),
      ],
      options,
    );
    expect(grades.map((g) => [g.id, g.status])).toEqual([
      ['10.0.0.2:9464', 'unhealthy'],
      ['10.0.0.5:9464', 'missing'],
      ['10.0.0.3:9464', 'degraded'],
      ['10.0.0.1:9464', 'healthy'],
      ['10.0.0.4:9464', 'healthy'],
    ]);
    const slow = grades[0]!.kpis.find((k) => k.kpi === 'timeToFirstToken')!;
    expect(slow).toMatchObject({ status: 'fail', display: '2950ms', graded: true });
    expect(grades[4]!.kpis.find((k) => k.kpi === 'timeToFirstToken')).toMatchObject({ graded: false, message: 'not graded: 19 samples in the last 60s, needs 20' });
  });

  it('names the worst instances with their values in a failing fleet KPI, and leaves passing ones alone', () => {
    const list = [instance('10.0.0.1:9464', 0.11, 30), instance('10.0.0.2:9464', 2.95, 30)];
    const fleet: SignalSnapshot = { ...emptySnapshot(60), timeToFirstToken: { count: 60, p95: 2.95 }, requests: { total: 60, serverErrors: 0 }, instances: 2, perInstance: list };
    const kpis = nameWorstInstances(gradeKpis(fleet, options), gradeInstances(list, options));
    expect(kpis.find((k) => k.kpi === 'timeToFirstToken')!.message).toBe(
      'Time to first token (p95) 2950ms breaches ≤1000ms (fail >2000ms) — by instance: 10.0.0.2:9464 2950ms (fail), 10.0.0.1:9464 110ms (pass)',
    );
    expect(kpis.find((k) => k.kpi === 'errorRate')!.message).toBeUndefined();
  });

  it('a "below" KPI names the lowest first; more than three instances are counted, not listed', () => {
    const list = [0.9, 0.1, 0.5, 0.3, 0.7].map((hit, i) =>
      instance(`i${i}`, 0.1, 30, { caches: { kb: { hits: Math.round(hit * 100), misses: 100 - Math.round(hit * 100) } } }),
    );
    const fleet: SignalSnapshot = { ...emptySnapshot(60), caches: { kb: { hits: 250, misses: 250 } }, instances: 5 };
    // 50 %: passes. Make the fleet fail with 15 %.
    const failing: SignalSnapshot = { ...fleet, caches: { kb: { hits: 15, misses: 85 } } };
    const k = nameWorstInstances(gradeKpis(failing, options), gradeInstances(list, options)).find((x) => x.kpi === 'kbCacheHitRate')!;
    expect(k.message).toBe('KB cache hit rate 15% breaches ≥40% (fail <20%) — by instance: i1 10% (fail), i3 30% (warn), i2 50% (pass), and 2 more');
    expect(nameWorstInstances(gradeKpis(fleet, options), gradeInstances(list, options)).find((x) => x.kpi === 'kbCacheHitRate')!.message).toBeUndefined();
  });

  it('summarizeInstance: the figures the status page and /api/v1/health show', () => {
    const [g] = gradeInstances([instance('10.0.0.2:9464', 2.95, 30, { requests: { total: 40, serverErrors: 4 }, streams: { completed: 27, failed: 3, aborted: 1 }, activeStreams: 2 })], options);
    expect(summarizeInstance(g!)).toEqual({
      id: '10.0.0.2:9464',
      job: 'fleet',
      instance: '10.0.0.2:9464',
      status: 'unhealthy',
      firstTokenP95Ms: 2950,
      streams: 31,
      activeStreams: 2,
      errorRate: 0.1,
      issues: [
        'timeToFirstToken: Time to first token (p95) 2950ms breaches ≤1000ms (fail >2000ms)',
        'streamSuccessRate: Stream success rate 90% breaches ≥98% (fail <95%)',
        'errorRate: Error rate 10% breaches ≤2% (fail >5%)',
      ],
    });
  });
});
