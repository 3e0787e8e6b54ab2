import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KPIS, type KpiKey } from '../../../src/grading/kpis';
import { alertsOf, api, Clock, createSchema, dep, harness, waitFor, type Harness } from './helpers';

/**
 * Every default rule fires on its condition and resolves by itself when the condition clears,
 * against real Postgres, driven through a real Recorder (errors, streams, requests, caches), the
 * real health grading on a test clock, and the real API.
 */

const clock = new Clock();
let h: Harness;
let db: Awaited<ReturnType<typeof createSchema>>;
const WINDOW = 60_000;

beforeAll(async () => {
  db = await createSchema('rules');
  h = await harness({ clock, schema: db.schema, windowMs: WINDOW });
});

afterAll(async () => {
  await h?.close();
  await db?.drop();
});

async function open(ruleId: string) {
  return (await alertsOf(h.base, ruleId)).filter((a) => a.status !== 'resolved');
}

/** Moves past every rule window (10 min) and the health window, so old signals are gone. */
async function quiet() {
  clock.advance(11 * 60_000);
  await h.evaluate();
}

describe('built-in rules', () => {
  it('high error rate: fires above 10 errors in 5 minutes, not at 10, and clears after the window', async () => {
    for (let i = 0; i < 10; i++) h.recorder.error('llm');
    await h.evaluate();
    expect(await open('high-error-rate')).toHaveLength(0);
    h.recorder.error('tts');
    await h.evaluate();
    const [a] = await open('high-error-rate');
    expect(a).toMatchObject({ status: 'firing', severity: 'warning', category: 'system', value: 11, origin: 'rule' });
    expect(a!.title).toMatch(/11 errors in the last 5m \(threshold > 10\)/);
    clock.advance(4 * 60_000);
    await h.evaluate();
    expect(await open('high-error-rate')).toHaveLength(1);
    clock.advance(70_000);
    await h.evaluate();
    expect(await open('high-error-rate')).toHaveLength(0);
    const [resolved] = await alertsOf(h.base, 'high-error-rate');
    expect(resolved).toMatchObject({ status: 'resolved', resolution: 'auto' });
  });

  it('high error rate does not count failed streams twice, nor aborted streams or validation errors', async () => {
    await quiet();
    const route = h.recorder.route('/chat');
    for (let i = 0; i < 15; i++) {
      h.recorder.streamStarted(route);
      h.recorder.streamEnded(route, i % 2 === 0 ? 'failed' : 'aborted', 0.2);
      h.recorder.error('validation');
    }
    await h.evaluate();
    expect(await open('high-error-rate')).toHaveLength(0);
    await quiet();
  });

  it('database errors: 3 or more in 5 minutes', async () => {
    h.recorder.error('database');
    h.recorder.error('database');
    await h.evaluate();
    expect(await open('database-errors')).toHaveLength(0);
    h.recorder.error('database');
    await h.evaluate();
    expect(await open('database-errors')).toEqual([expect.objectContaining({ category: 'database', value: 3, severity: 'warning' })]);
    await quiet();
    expect(await open('database-errors')).toHaveLength(0);
  });

  it('authentication failures: 5 or more 401/403 answers in 10 minutes', async () => {
    const route = h.recorder.route('/login');
    for (let i = 0; i < 4; i++) h.recorder.requestFinished('POST', route, i % 2 ? 401 : 403, 0.01);
    await h.evaluate();
    expect(await open('authentication-failures')).toHaveLength(0);
    h.alerting.trackError({ category: 'authentication', level: 'warning', message: 'bad API key', source: 'gateway' });
    await h.evaluate();
    expect(await open('authentication-failures')).toEqual([expect.objectContaining({ category: 'authentication', value: 5 })]);
    clock.advance(6 * 60_000);
    await h.evaluate();
    expect(await open('authentication-failures')).toHaveLength(1);
    clock.advance(5 * 60_000);
    await h.evaluate();
    expect(await open('authentication-failures')).toHaveLength(0);
  });

  it('critical error: fires at once, without waiting for the evaluation interval, one alert per category', async () => {
    h.alerting.trackError({ category: 'llm', level: 'critical', message: 'model endpoint returns 500 for every request' });
    const [a] = await waitFor(async () => {
      const o = await open('critical-error');
      return o.length > 0 && o;
    }, 5000, 'the critical error alert');
    expect(a).toMatchObject({ severity: 'critical', category: 'llm', labels: expect.objectContaining({ category: 'llm' }) });
    expect(a!.description).toMatch(/model endpoint returns 500/);
    h.alerting.trackError({ category: 'database', level: 'critical', message: 'disk full' });
    await waitFor(async () => (await open('critical-error')).length === 2, 5000, 'a second critical alert');
    await quiet();
    expect(await open('critical-error')).toHaveLength(0);
  });

  it('slow responses: a response over 30 s within 5 minutes', async () => {
    const route = h.recorder.route('/chat');
    h.recorder.requestFinished('POST', route, 200, 29.9);
    await h.evaluate();
    expect(await open('slow-responses')).toHaveLength(0);
    h.recorder.streamStarted(route);
    h.recorder.streamEnded(route, 'completed', 31.5);
    await h.evaluate();
    const [a] = await open('slow-responses');
    expect(a).toMatchObject({ value: 31.5, severity: 'warning' });
    await quiet();
    expect(await open('slow-responses')).toHaveLength(0);
  });
});

describe('dependency rules', () => {
  it('required dependency down: critical, per dependency, resolved when it passes; unknown before its first check', async () => {
    h.deps.list = [dep('database', 'database', 'warn', true, 'not checked yet')];
    await h.evaluate();
    expect(await open('required-dependency-down')).toHaveLength(0);
    h.deps.list = [dep('database', 'database', 'fail', true)];
    await h.evaluate();
    expect(await open('required-dependency-down')).toEqual([expect.objectContaining({ severity: 'critical', category: 'database', labels: expect.objectContaining({ dependency: 'database' }) })]);
    h.deps.list = [dep('database', 'database', 'pass', true)];
    await h.evaluate();
    expect(await open('required-dependency-down')).toHaveLength(0);
  });

  it('optional dependency down: warning', async () => {
    h.deps.list = [dep('redis', 'redis', 'fail', false)];
    await h.evaluate();
    expect(await open('optional-dependency-down')).toEqual([expect.objectContaining({ severity: 'warning', category: 'integration' })]);
    expect(await open('required-dependency-down')).toHaveLength(0);
    h.deps.list = [];
    await h.evaluate();
    expect(await open('optional-dependency-down')).toHaveLength(0);
  });
});

/** Puts one KPI at `level` (traffic in a fresh window), everything else passing. */
function drive(kpi: KpiKey, level: 'pass' | 'warn' | 'fail') {
  const r = h.recorder;
  const route = r.route('/chat');
  const s = h.sampler;
  s.memory = 0.1;
  s.cpu = 0.1;
  s.eventLoopDelay = 0.001;
  const pick = <T>(pass: T, warn: T, fail: T) => (level === 'pass' ? pass : level === 'warn' ? warn : fail);
  switch (kpi) {
    case 'timeToFirstToken':
      for (let i = 0; i < 10; i++) r.firstToken(route, pick(0.1, 1.5, 2.5));
      break;
    case 'timeToFirstAudio':
      for (let i = 0; i < 10; i++) r.firstAudio(route, pick(0.5, 2.5, 3.5));
      break;
    case 'completeResponse':
      for (let i = 0; i < 10; i++) {
        r.streamStarted(route);
        r.streamEnded(route, 'completed', pick(1, 6, 9));
      }
      break;
    case 'streamSuccessRate': {
      const failed = pick(0, 3, 10);
      for (let i = 0; i < 100; i++) {
        r.streamStarted(route);
        r.streamEnded(route, i < failed ? 'failed' : 'completed', 0.5);
      }
      break;
    }
    case 'errorRate': {
      const bad = pick(0, 3, 10);
      for (let i = 0; i < 100; i++) r.requestFinished('GET', route, i < bad ? 500 : 200, 0.05);
      break;
    }
    case 'kbCacheHitRate':
    case 'ttsCacheHitRate': {
      const hits = kpi === 'kbCacheHitRate' ? pick(100, 30, 10) : pick(100, 20, 5);
      const name = kpi === 'kbCacheHitRate' ? 'kb' : 'tts';
      r.cacheLookup(name, 'hit', hits);
      r.cacheLookup(name, 'miss', 100 - hits);
      break;
    }
    case 'activeStreams': {
      const n = pick(0, 250, 600);
      const active = [...r.streamsActive.all()].reduce((a, x) => a + x.value, 0);
      const other = r.route('/stream-load');
      for (let i = active; i < n; i++) r.streamStarted(other);
      for (let i = active; i > n; i--) r.streamEnded(other, 'completed', 0.1);
      break;
    }
    case 'memory':
      s.memory = pick(0.5, 0.85, 0.95);
      break;
    case 'cpu':
      s.cpu = pick(0.5, 0.85, 0.95);
      break;
    case 'eventLoopDelay':
      s.eventLoopDelay = pick(0.01, 0.2, 0.6);
      break;
    case 'upstreamTimeToFirstChunk':
    case 'upstreamErrorRate': {
      // Streamed model calls the app made, as the fetch hook reports them.
      const series = r.modelCalls.series({ operation: 'chat', provider: 'openai', requestModel: 'gpt-4o-mini', address: 'api.openai.com', port: 443 }, undefined);
      const firstChunk = kpi === 'upstreamTimeToFirstChunk' ? pick(0.3, 1.5, 3) : 0.3;
      const errors = kpi === 'upstreamErrorRate' ? pick(0, 3, 10) : 0;
      for (let i = 0; i < 100; i++) r.modelCallEnded(series, 'chat', i < errors ? 'server_error' : undefined, firstChunk + 0.5, firstChunk, 10, 20);
      break;
    }
  }
}

describe('KPI rules: every KPI of the health grading at warn and fail', () => {
  it('has a warn and a fail rule for every KPI', async () => {
    const r = await api(h.base, 'GET', '/api/v1/health/alerts/rules');
    const ids = (r.body.rules as { id: string }[]).map((x) => x.id);
    for (const k of KPIS) expect(ids).toEqual(expect.arrayContaining([`kpi-${k.key}-warn`, `kpi-${k.key}-fail`]));
  });

  for (const def of KPIS) {
    it(`${def.key}: warn fires the warning, fail adds the critical, recovery resolves both`, async () => {
      const warnRule = `kpi-${def.key}-warn`;
      const failRule = `kpi-${def.key}-fail`;
      clock.advance(WINDOW + 5000);
      drive(def.key, 'warn');
      await h.evaluate();
      const kpi = h.service.report().kpis.find((k) => k.name === def.key)!;
      expect(kpi.status, `${def.key} graded ${JSON.stringify(kpi)}`).toBe('warn');
      expect(await open(warnRule)).toEqual([expect.objectContaining({ severity: 'warning', status: 'firing', labels: expect.objectContaining({ kpi: def.key }) })]);
      expect(await open(failRule)).toHaveLength(0);

      clock.advance(WINDOW + 5000);
      drive(def.key, 'fail');
      await h.evaluate();
      expect(h.service.report().kpis.find((k) => k.name === def.key)!.status).toBe('fail');
      expect(await open(failRule)).toEqual([expect.objectContaining({ severity: 'critical' })]);
      expect(await open(warnRule)).toHaveLength(1);

      clock.advance(WINDOW + 5000);
      drive(def.key, 'pass');
      await h.evaluate();
      expect(h.service.report().kpis.find((k) => k.name === def.key)!.status).toBe('pass');
      expect(await open(warnRule)).toHaveLength(0);
      expect(await open(failRule)).toHaveLength(0);
      expect((await alertsOf(h.base, failRule))[0]).toMatchObject({ status: 'resolved', resolution: 'auto' });
    });
  }

  it('an ungraded KPI (too few samples) neither fires nor resolves', async () => {
    clock.advance(WINDOW + 5000);
    drive('timeToFirstToken', 'fail');
    await h.evaluate();
    expect(await open('kpi-timeToFirstToken-fail')).toHaveLength(1);
    clock.advance(WINDOW + 5000); // the window empties: not graded
    await h.evaluate();
    expect(h.service.report().kpis.find((k) => k.name === 'timeToFirstToken')!.graded).toBe(false);
    expect(await open('kpi-timeToFirstToken-fail')).toHaveLength(1);
    drive('timeToFirstToken', 'pass');
    await h.evaluate();
    expect(await open('kpi-timeToFirstToken-fail')).toHaveLength(0);
  });
});

describe('the dashboard cache', () => {
  it('activeAlerts() mirrors the open alerts synchronously and feeds the dashboard', async () => {
    await quiet();
    h.deps.list = [];
    await h.evaluate();
    expect(h.alerting.activeAlerts()).toHaveLength(0);
    h.alerting.trackError({ category: 'tts', level: 'critical', message: 'voice provider down' });
    await h.alerting.evaluateNow();
    expect(h.alerting.activeAlerts()).toEqual([expect.objectContaining({ severity: 'critical', category: 'tts', status: 'firing' })]);
    const d = await api(h.base, 'GET', '/api/v1/health/dashboard');
    expect(d.body.monitoring.summary).toMatchObject({ total: 1, critical: 1 });
    expect(d.body.overview.activeAlerts).toBe(1);
    await quiet();
    expect(h.alerting.activeAlerts()).toHaveLength(0);
  });
});
