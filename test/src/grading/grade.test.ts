import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { SlidingWindow } from '../../../src/signals/window';
import { gradeKpis, type KpiResult } from '../../../src/grading/grade';
import { DEFAULT_THRESHOLDS, type KpiKey } from '../../../src/grading/kpis';
import { Hysteresis } from '../../../src/grading/hysteresis';
import type { SignalSnapshot } from '../../../src/signals/snapshot';
import { UpstreamWindow } from '../../../src/signals/upstream-window';
import { gradeUpstreams } from '../../../src/checks/passive-upstreams';

const MIN = 20;

/** Injects traffic through the recorder (the path the hooks use) and grades the window. */
function grade(inject: (r: Recorder) => void, process?: SignalSnapshot['process']): Record<string, KpiResult> {
  const r = new Recorder();
  const w = new SlidingWindow(r, 60_000).attach();
  inject(r);
  const snap = { ...w.snapshot(), process };
  w.close();
  return Object.fromEntries(gradeKpis(snap, { thresholds: DEFAULT_THRESHOLDS, minSamples: MIN }).map((k) => [k.name, k]));
}

/** 100 streams whose p95 (nearest rank: the 95th smallest) is `p95`. */
function latencies(p95: number): number[] {
  return Array.from({ length: 100 }, (_, i) => (i < 95 ? p95 * (0.5 + (i / 94) * 0.5) : p95 * 1.5));
}

describe('latency KPIs at their boundaries (the KPI table)', () => {
  const cases: { key: KpiKey; record: (r: Recorder, v: number) => void; warn: number; fail: number }[] = [
    { key: 'timeToFirstToken', record: (r, v) => r.firstToken(r.route('/chat'), v), warn: 1, fail: 2 },
    { key: 'timeToFirstAudio', record: (r, v) => r.firstAudio(r.route('/chat'), v), warn: 2, fail: 3 },
    {
      key: 'completeResponse',
      record: (r, v) => {
        const route = r.route('/chat');
        r.streamStarted(route);
        r.streamEnded(route, 'completed', v);
      },
      warn: 5,
      fail: 8,
    },
  ];
  for (const c of cases) {
    it(`${c.key}: pass at the warn edge, warn just above, warn at the fail edge, fail just above`, () => {
      // The estimate is within 0.55 % of the true p95, so probe 2 % away from each edge.
      const at = (p95: number) => grade((r) => latencies(p95).forEach((v) => c.record(r, v)))[c.key]!;
      expect(at(c.warn * 0.98).status).toBe('pass');
      expect(at(c.warn * 1.02).status).toBe('warn');
      expect(at(c.fail * 0.98).status).toBe('warn');
      expect(at(c.fail * 1.02).status).toBe('fail');
      const k = at(c.warn * 0.5);
      expect(k.graded).toBe(true);
      expect(k.samples).toBe(100);
      expect(Math.abs(k.value! - c.warn * 0.5) / (c.warn * 0.5)).toBeLessThan(0.02);
    });
  }

  it('does not grade a KPI with too few samples, and says so', () => {
    const k = grade((r) => {
      for (let i = 0; i < MIN - 1; i++) r.firstToken(r.route('/chat'), 10);
    }).timeToFirstToken!;
    expect(k.status).toBe('pass');
    expect(k.graded).toBe(false);
    expect(k.message).toMatch(/not graded: 19 samples .* needs 20/);
    expect(grade(() => undefined).timeToFirstToken!.message).toMatch(/no samples/);
  });
});

describe('rate KPIs at their boundaries', () => {
  function streams(completed: number, failed: number, aborted = 0) {
    return (r: Recorder) => {
      const route = r.route('/chat');
      const end = (o: 'completed' | 'failed' | 'aborted', n: number) => {
        for (let i = 0; i < n; i++) {
          r.streamStarted(route);
          r.streamEnded(route, o, 1);
        }
      };
      end('completed', completed);
      end('failed', failed);
      end('aborted', aborted);
    };
  }
  it('stream success rate: 98 % passes, 97.9 % warns, 95 % warns, 94.9 % fails; aborts do not count', () => {
    expect(grade(streams(980, 20, 500)).streamSuccessRate!.status).toBe('pass');
    expect(grade(streams(979, 21)).streamSuccessRate!.status).toBe('warn');
    expect(grade(streams(950, 50)).streamSuccessRate!.status).toBe('warn');
    expect(grade(streams(949, 51)).streamSuccessRate!.status).toBe('fail');
    expect(grade(streams(980, 20)).streamSuccessRate!.display).toBe('98%');
  });

  it('error rate: 2 % passes, 2.1 % warns, 5 % warns, 5.1 % fails', () => {
    const requests = (ok: number, errors: number) => (r: Recorder) => {
      const route = r.route('/api');
      for (let i = 0; i < ok; i++) r.requestFinished('GET', route, 200, 0.01);
      for (let i = 0; i < errors; i++) r.requestFinished('GET', route, 503, 0.01);
    };
    expect(grade(requests(980, 20)).errorRate!.status).toBe('pass');
    expect(grade(requests(979, 21)).errorRate!.status).toBe('warn');
    expect(grade(requests(950, 50)).errorRate!.status).toBe('warn');
    expect(grade(requests(949, 51)).errorRate!.status).toBe('fail');
  });

  it('KB and TTS cache hit rates against their own thresholds', () => {
    const cache = (name: string, hits: number, misses: number) => (r: Recorder) => {
      r.cacheLookup(name, 'hit', hits);
      r.cacheLookup(name, 'miss', misses);
    };
    expect(grade(cache('kb', 40, 60)).kbCacheHitRate!.status).toBe('pass');
    expect(grade(cache('kb', 39, 61)).kbCacheHitRate!.status).toBe('warn');
    expect(grade(cache('kb', 20, 80)).kbCacheHitRate!.status).toBe('warn');
    expect(grade(cache('kb', 19, 81)).kbCacheHitRate!.status).toBe('fail');
    expect(grade(cache('tts', 30, 70)).ttsCacheHitRate!.status).toBe('pass');
    expect(grade(cache('tts', 29, 71)).ttsCacheHitRate!.status).toBe('warn');
    expect(grade(cache('tts', 10, 90)).ttsCacheHitRate!.status).toBe('warn');
    expect(grade(cache('tts', 9, 91)).ttsCacheHitRate!.status).toBe('fail');
  });
});

describe('gauge KPIs', () => {
  it('active streams: 200 passes, 201 warns, 500 warns, 501 fails', () => {
    const open = (n: number) => (r: Recorder) => {
      const route = r.route('/chat');
      for (let i = 0; i < n; i++) r.streamStarted(route);
    };
    expect(grade(open(200)).activeStreams!.status).toBe('pass');
    expect(grade(open(201)).activeStreams!.status).toBe('warn');
    expect(grade(open(500)).activeStreams!.status).toBe('warn');
    expect(grade(open(501)).activeStreams!.status).toBe('fail');
  });

  it('memory, CPU and event-loop delay', () => {
    const p = (memoryUtilization: number, cpuUtilization: number, eventLoopDelayP99: number) =>
      grade(() => undefined, { memoryUtilization, cpuUtilization, eventLoopDelayP99 });
    const ok = p(0.8, 0.8, 0.1);
    expect([ok.memory!.status, ok.cpu!.status, ok.eventLoopDelay!.status]).toEqual(['pass', 'pass', 'pass']);
    const warn = p(0.81, 0.9, 0.5);
    expect([warn.memory!.status, warn.cpu!.status, warn.eventLoopDelay!.status]).toEqual(['warn', 'warn', 'warn']);
    const bad = p(0.91, 0.95, 0.6);
    expect([bad.memory!.status, bad.cpu!.status, bad.eventLoopDelay!.status]).toEqual(['fail', 'fail', 'fail']);
    expect(bad.memory!.display).toBe('91%');
    expect(bad.memory!.threshold).toBe('≤80% (fail >90%)');
  });
});

describe('upstream KPIs: graded per provider and model, the worst pair decides', () => {
  /** `n` calls of one provider and model through the recorder (the path the model-call hook takes). */
  const calls = (r: Recorder, provider: string, model: string, firstChunks: readonly number[], errors = 0) => {
    const series = r.modelCalls.series({ operation: 'chat', provider, requestModel: model, address: 'api.example.com', port: 443 }, undefined);
    firstChunks.forEach((f, i) => r.modelCallEnded(series, 'chat', i < errors ? '500' : undefined, f + 1, f, -1, -1));
  };
  function gradeUp(inject: (r: Recorder) => void): { kpis: Record<string, KpiResult>; passive: ReturnType<typeof gradeUpstreams> } {
    const r = new Recorder();
    const w = new SlidingWindow(r, 60_000).attach();
    const u = new UpstreamWindow(r, 60_000).attach();
    inject(r);
    const snap = { ...w.snapshot(), upstreams: u.stats() };
    w.close();
    u.close();
    const options = { thresholds: DEFAULT_THRESHOLDS, minSamples: MIN };
    return { kpis: Object.fromEntries(gradeKpis(snap, options).map((k) => [k.name, k])), passive: gradeUpstreams(snap.upstreams, options, new Date()) };
  }

  it('time to first chunk p95: pass at the warn edge, warn just above, fail past the fail edge; the slow model is named', () => {
    const at = (p95: number) =>
      gradeUp((r) => {
        calls(r, 'openai', 'gpt-fast', latencies(0.2));
        calls(r, 'anthropic', 'claude-slow', latencies(p95));
      });
    expect(at(1.28 * 0.98).kpis.upstreamTimeToFirstChunk!.status).toBe('pass');
    const warn = at(1.28 * 1.02);
    expect(warn.kpis.upstreamTimeToFirstChunk!.status).toBe('warn');
    expect(warn.kpis.upstreamTimeToFirstChunk!.subject).toBe('anthropic/claude-slow');
    expect(warn.kpis.upstreamTimeToFirstChunk!.message).toMatch(/^Model time to first chunk \(p95\) 13\d\dms for anthropic model claude-slow breaches ≤1280ms \(fail >2560ms\)$/);
    expect(at(2.56 * 0.98).kpis.upstreamTimeToFirstChunk!.status).toBe('warn');
    const fail = at(2.56 * 1.02);
    expect(fail.kpis.upstreamTimeToFirstChunk!.status).toBe('fail');
    expect(fail.kpis.upstreamTimeToFirstChunk!.graded).toBe(true);
    expect(fail.kpis.upstreamTimeToFirstChunk!.component).toBe('streaming');
    // The passive check of the same provider says the same, from the same thresholds.
    expect(fail.passive.find((d) => d.name === 'model:anthropic')!.status).toBe('fail');
    expect(fail.passive.find((d) => d.name === 'model:anthropic')!.message).toMatch(/^claude-slow time to first chunk p95 2\d{3}ms > 2560ms$/);
    expect(fail.passive.find((d) => d.name === 'model:openai')!.status).toBe('pass');
  });

  it('error rate: 2 % passes, 2.5 % warns, 5 % warns, 6 % fails; per pair, not pooled', () => {
    const rate = (errors: number, of: number) =>
      gradeUp((r) => {
        calls(r, 'openai', 'gpt-a', Array.from({ length: of }, () => 0.1), errors);
        // A healthy second model: pooled, it would dilute the first one's rate under the threshold.
        calls(r, 'openai', 'gpt-b', Array.from({ length: 1000 }, () => 0.1));
      }).kpis.upstreamErrorRate!;
    expect(rate(2, 100).status).toBe('pass');
    expect(rate(5, 200).status).toBe('warn');
    expect(rate(5, 100).status).toBe('warn');
    const fail = rate(6, 100);
    expect(fail.status).toBe('fail');
    expect(fail.message).toBe('Model error rate 6% for openai model gpt-a breaches ≤2% (fail >5%)');
    expect(fail.value).toBeCloseTo(0.06, 10);
  });

  it('a pair with too few calls is not graded, and a window without model calls says so', () => {
    const few = gradeUp((r) => calls(r, 'openai', 'gpt-rare', [5, 5, 5], 3)).kpis;
    expect(few.upstreamErrorRate!.graded).toBe(false);
    expect(few.upstreamErrorRate!.status).toBe('pass');
    expect(few.upstreamErrorRate!.message).toBe(`not graded: at most 3 samples for one provider and model in the last 60s, needs ${MIN}`);
    const none = gradeUp(() => undefined).kpis;
    expect(none.upstreamTimeToFirstChunk!.message).toBe('not graded: no model calls in the last 60s');
  });

  it('the configured thresholds move the KPI rows and the passive checks together', () => {
    const r = new Recorder();
    const u = new UpstreamWindow(r, 60_000).attach();
    calls(r, 'openai', 'gpt-a', latencies(1));
    const snap = { ...new SlidingWindow(r, 60_000).snapshot(), upstreams: u.stats() };
    const strict = { thresholds: { ...DEFAULT_THRESHOLDS, upstreamTimeToFirstChunk: { target: 0.2, warn: 0.5, fail: 0.8 } }, minSamples: MIN };
    expect(gradeKpis(snap, strict).find((k) => k.name === 'upstreamTimeToFirstChunk')!.status).toBe('fail');
    expect(gradeUpstreams(snap.upstreams, strict, new Date())[0]!.status).toBe('fail');
    expect(gradeUpstreams(snap.upstreams, { thresholds: DEFAULT_THRESHOLDS, minSamples: MIN }, new Date())[0]!.status).toBe('pass');
  });
});

describe('Hysteresis', () => {
  it('needs the new status in N consecutive evaluations before reporting it', () => {
    const h = new Hysteresis(2);
    expect(h.apply('k', 'pass')).toBe('pass');
    expect(h.apply('k', 'fail')).toBe('pass'); // one bad evaluation does not flap
    expect(h.apply('k', 'pass')).toBe('pass');
    expect(h.apply('k', 'warn')).toBe('pass');
    expect(h.pending('k')).toBe('warn');
    expect(h.apply('k', 'warn')).toBe('warn');
    expect(h.apply('k', 'pass')).toBe('warn');
    expect(h.apply('k', 'fail')).toBe('warn'); // a different candidate restarts the streak
    expect(h.apply('k', 'fail')).toBe('fail');
    const none = new Hysteresis(1);
    none.apply('k', 'pass');
    expect(none.apply('k', 'fail')).toBe('fail');
  });
});
