import { describe, expect, it } from 'vitest';
import type { SignalSnapshot } from '../../../src/signals/snapshot';
import { MetricsHistory, streamRate } from '../../../src/ui/history';

function snap(p95: number, completed = 30): SignalSnapshot {
  const l = { count: 10, p50: p95 / 2, p95, p99: p95 * 1.2 };
  return {
    windowSeconds: 60,
    timeToFirstToken: l,
    timeToFirstAudio: { count: 0 },
    completeResponse: l,
    streams: { completed, failed: 3, aborted: 3 },
    requests: { total: 40, serverErrors: 0 },
    caches: {},
    errors: {},
    activeStreams: 4,
    instances: 1,
  };
}

describe('chart history', () => {
  it('keeps the last N evaluations in order, in ms, with the stream rate', () => {
    const h = new MetricsHistory(3);
    for (let i = 1; i <= 5; i++) h.record(snap(i * 0.1), i * 1000);
    expect(h.length).toBe(3);
    const pts = h.points();
    expect(pts.map((p) => p.t)).toEqual([3000, 4000, 5000]);
    expect(pts[2]!.firstToken).toEqual([250, 500, 600]);
    expect(pts[2]!.firstAudio).toEqual([null, null, null]);
    expect(pts[2]!.streamRate).toBe(0.6); // (30 + 3 + 3) / 60 s
    expect(pts[2]!.activeStreams).toBe(4);
  });

  it('replaces a point evaluated at the same time, and refuses a useless capacity', () => {
    const h = new MetricsHistory(5);
    h.record(snap(0.1), 1000);
    h.record(snap(0.2), 1000);
    expect(h.points()).toHaveLength(1);
    expect(h.points()[0]!.firstToken[1]).toBe(200);
    expect(() => new MetricsHistory(0)).toThrow(RangeError);
    expect(streamRate({ ...snap(0.1), windowSeconds: 0 })).toBe(0);
  });
});
