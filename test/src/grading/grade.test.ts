import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { SlidingWindow } from '../../../src/signals/window';
import { gradeKpis, type KpiResult } from '../../../src/grading/grade';
import { DEFAULT_THRESHOLDS, type KpiKey } from '../../../src/grading/kpis';
import { Hysteresis } from '../../../src/grading/hysteresis';
import type { SignalSnapshot } from '../../../src/signals/snapshot';

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
