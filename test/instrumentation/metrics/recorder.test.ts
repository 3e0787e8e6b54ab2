import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';

describe('Recorder bounds', () => {
  it('collapses routes past maxRoutes into _OTHER and keeps series bounded under a flood', () => {
    const r = new Recorder({ maxRoutes: 10, maxSeriesPerMetric: 50, maxCaches: 3 });
    for (let i = 0; i < 10_000; i++) {
      const route = r.route(`/u/${i}`);
      r.requestStarted('GET');
      r.requestFinished('GET', route, 200 + (i % 300), 0.01);
      r.streamStarted(route);
      r.streamEnded(route, 'completed', 0.1);
      r.cacheLookup(`cache${i}`, 'hit');
    }
    expect(r.route('/u/9999').route).toBe('_OTHER');
    expect(r.httpDuration.series.size).toBeLessThanOrEqual(50);
    expect(r.timeToFirstToken.series.size).toBeLessThanOrEqual(11);
    expect(r.cacheLookups.series.size).toBeLessThanOrEqual(8);
    // Nothing is lost: the overflow series absorbs the excess.
    let total = 0;
    for (const s of r.httpDuration.all()) total += s.value.count;
    expect(total).toBe(10_000);
    let active = 0;
    for (const s of r.streamsActive.all()) active += s.value;
    expect(active).toBe(0);
  });

  it('maps unknown error types to other and ignores non-finite durations', () => {
    const r = new Recorder();
    r.error('llm');
    r.error('made-up');
    const byType = Object.fromEntries([...r.errors.all()].map((s) => [s.attributes['error.type'], s.value]));
    expect(byType).toEqual({ llm: 1, other: 1 });
    const route = r.route('/x');
    r.firstToken(route, NaN);
    r.firstToken(route, -1);
    r.firstToken(route, Infinity);
    r.firstToken(route, 0.2);
    const cell = r.timeToFirstToken.series.get('/x')!.value;
    expect(cell.count).toBe(1);
    expect(cell.sum).toBeCloseTo(0.2);
  });

  it('counts through a resolved cache handle exactly as cacheLookup does, listeners included', () => {
    const r = new Recorder({ maxRoutes: 10, maxSeriesPerMetric: 50, maxCaches: 2 });
    const seen: string[] = [];
    r.addListener({ onCacheLookup: (cache, result, count) => seen.push(`${cache} ${result} ${count}`) });
    const kb = r.cacheSeries('kb');
    r.cacheCounted(kb, 1, 0);
    r.cacheCounted(kb, 0, 1);
    r.cacheCounted(kb, 2, 3);
    r.cacheLookup('kb', 'hit');
    r.cacheLookup('tts', 'miss', 2);
    // Past maxCaches the handle lands in the overflow series, as cacheLookup does; listeners see the name asked for.
    const extra = r.cacheSeries('third');
    r.cacheCounted(extra, 1, 0);
    const byKey = Object.fromEntries(
      [...r.cacheLookups.all()].map((s) => [`${s.attributes['chatbot.cache.name']} ${s.attributes['chatbot.cache.result']}`, s.value]),
    );
    expect(byKey).toEqual({ 'kb hit': 4, 'kb miss': 4, 'tts hit': 0, 'tts miss': 2, '_OTHER hit': 1, '_OTHER miss': 0 });
    expect(seen).toEqual(['kb hit 1', 'kb miss 1', 'kb hit 2', 'kb miss 3', 'kb hit 1', 'tts miss 2', 'third hit 1']);
  });
});
