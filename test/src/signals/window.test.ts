import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { SlidingWindow } from '../../../src/signals/window';

describe('SlidingWindow', () => {
  it('counts what the recorder saw within the window and forgets it after', () => {
    let now = 1_000_000;
    const r = new Recorder();
    const w = new SlidingWindow(r, 30_000, undefined, () => now).attach();
    const route = r.route('/chat');
    for (let i = 0; i < 10; i++) {
      r.streamStarted(route);
      r.firstToken(route, 0.1 * (i + 1));
      r.streamEnded(route, i < 8 ? 'completed' : 'failed', 1);
    }
    r.cacheLookup('kb', 'hit', 3);
    r.cacheLookup('kb', 'miss', 1);
    r.requestFinished('GET', route, 500, 0.1);
    r.requestFinished('GET', route, 200, 0.1);
    r.error('llm');
    let s = w.snapshot();
    expect(s.timeToFirstToken.count).toBe(10);
    expect(s.timeToFirstToken.p95).toBeCloseTo(1.0, 1);
    expect(s.streams).toEqual({ completed: 8, failed: 2, aborted: 0 });
    expect(s.caches.kb).toEqual({ hits: 3, misses: 1 });
    expect(s.requests).toEqual({ total: 2, serverErrors: 1 });
    expect(s.errors).toEqual({ llm: 1 });
    now += 20_000;
    r.firstToken(route, 5);
    s = w.snapshot();
    expect(s.timeToFirstToken.count).toBe(11);
    now += 15_000; // the first batch is now 35 s old, past the 30 s window
    s = w.snapshot();
    expect(s.timeToFirstToken.count).toBe(1);
    expect(s.streams.completed).toBe(0);
    expect(s.caches.kb).toBeUndefined();
    now += 60_000;
    expect(w.snapshot().timeToFirstToken.count).toBe(0);
    w.close();
  });

  it('reads active streams from the recorder and keeps only recent events', () => {
    const r = new Recorder();
    const w = new SlidingWindow(r, 60_000).attach();
    const route = r.route('/x');
    for (let i = 0; i < 700; i++) r.streamStarted(route);
    expect(w.snapshot().activeStreams).toBe(700);
    expect(w.events.recent(1000)).toHaveLength(500);
    expect(w.events.recent(2)[0]!.event).toBe('start');
    w.close();
  });

  it('keeps the first-token breakdown per route as phase means, and forgets it with the window', () => {
    let now = 1_000_000;
    const r = new Recorder();
    const w = new SlidingWindow(r, 30_000, undefined, () => now).attach();
    const chat = r.route('/chat');
    const ask = r.route('/ask');
    r.firstTokenBreakdown(chat, 0.1, 0.2, 0.05);
    r.firstTokenBreakdown(chat, 0.3, 0.4, 0.15);
    now += 10_000;
    r.firstTokenBreakdown(ask, 0.01, 0.5, 0);
    let b = w.snapshot().firstTokenBreakdown!;
    expect(Object.keys(b).sort()).toEqual(['/ask', '/chat']);
    expect(b['/chat']!.streams).toBe(2);
    expect(b['/chat']!.appBeforeModel).toBeCloseTo(0.2, 10);
    expect(b['/chat']!.model).toBeCloseTo(0.3, 10);
    expect(b['/chat']!.appAfterModel).toBeCloseTo(0.1, 10);
    expect(b['/ask']).toMatchObject({ streams: 1, model: 0.5 });
    now += 25_000;
    b = w.snapshot().firstTokenBreakdown!;
    expect(Object.keys(b)).toEqual(['/ask']);
    w.close();
  });
});
