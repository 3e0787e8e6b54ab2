import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, Clock, createSchema, freePort, harness, type Harness } from './helpers';

/** The alerts API end to end: lifecycle, every bad input, filters, rules, stats, 503, memory mode. */

const clock = new Clock();
let h: Harness;
let db: Awaited<ReturnType<typeof createSchema>>;
let dir: string;
let file: string;
const A = '/api/v1/health/alerts';

const CONFIG_YAML = `# health config used by the alerts API test
minSamples: 5
alerts:
  evaluationInterval: 30s
  rules:
    # raise the database rule to 4
    - id: database-errors
      threshold: 4
    - id: llm-errors
      kind: errors
      name: LLM errors
      severity: warning
      window: 5m
      operator: ">="
      threshold: 2
      match:
        categories: [llm]
`;

beforeAll(async () => {
  db = await createSchema('api');
  dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-alerts-'));
  file = path.join(dir, 'health.yaml');
  writeFileSync(file, CONFIG_YAML);
  h = await harness({ clock, schema: db.schema, env: { CHATPULSE_HEALTH_CONFIG: file } });
});

afterAll(async () => {
  await h?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function fireCritical(category: string, message = 'boom'): Promise<string> {
  h.alerting.trackError({ category, level: 'critical', message } as never);
  await h.alerting.evaluateNow();
  const r = await api(h.base, 'GET', `${A}?category=${category}&severity=critical`);
  const a = (r.body.alerts as { id: string; ruleId: string }[]).find((x) => x.ruleId === 'critical-error');
  if (a === undefined) throw new Error(`no critical alert for ${category}: ${JSON.stringify(r.body)}`);
  return a.id;
}

async function quiet() {
  clock.advance(11 * 60_000);
  await h.evaluate();
}

describe('lifecycle through the API', () => {
  it('firing → acknowledged → resolved, with who, when and notes kept as history', async () => {
    const id = await fireCritical('llm', 'completions failing');
    let r = await api(h.base, 'GET', A);
    expect(r.status).toBe(200);
    expect(r.body.store).toEqual({ kind: 'postgres', durable: true });
    expect(r.body.alerts).toEqual([expect.objectContaining({ id, status: 'firing', severity: 'critical', category: 'llm' })]);

    clock.advance(1000);
    r = await api(h.base, 'POST', A, { action: 'acknowledge', ids: [id], note: 'looking at the LLM provider', by: 'alice' });
    expect(r.status).toBe(200);
    expect(r.body.alerts[0]).toMatchObject({ id, status: 'acknowledged', acknowledgedBy: 'alice', note: 'looking at the LLM provider', acknowledgedAt: new Date(clock.t).toISOString() });
    expect(h.alerting.activeAlerts()[0]).toMatchObject({ id, status: 'acknowledged' });

    r = await api(h.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'bob' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(new RegExp(`${id} is acknowledged`));

    // Evaluation while acknowledged keeps it acknowledged (the condition still holds).
    await h.alerting.evaluateNow();
    expect((await api(h.base, 'GET', `${A}/${id}`)).body.alert.status).toBe('acknowledged');

    clock.advance(1000);
    r = await api(h.base, 'POST', A, { action: 'resolve', ids: [id], note: 'provider fixed', by: 'alice' });
    expect(r.status).toBe(200);
    expect(r.body.alerts[0]).toMatchObject({ status: 'resolved', resolution: 'manual', resolvedBy: 'alice' });
    expect(h.alerting.activeAlerts()).toHaveLength(0);

    for (const action of ['resolve', 'acknowledge']) {
      r = await api(h.base, 'POST', A, { action, ids: [id] });
      expect(r.status, action).toBe(409);
      expect(r.body.conflicts).toEqual([{ id, status: 'resolved' }]);
    }

    r = await api(h.base, 'GET', `${A}/${id}`);
    expect(r.body.transitions.map((t: { from: string | null; to: string; by: string; note: string | null }) => [t.from, t.to, t.by, t.note])).toEqual([
      [null, 'firing', 'rule:critical-error', null],
      ['firing', 'acknowledged', 'alice', 'looking at the LLM provider'],
      ['acknowledged', 'resolved', 'alice', 'provider fixed'],
    ]);
    expect((await api(h.base, 'GET', `${A}?status=resolved`)).body.alerts.map((a: { id: string }) => a.id)).toContain(id);
    expect((await api(h.base, 'GET', A)).body.alerts).toHaveLength(0);

    // The condition still holds within its window: a manually resolved alert fires again as a new alert.
    await h.alerting.evaluateNow();
    const again = (await api(h.base, 'GET', `${A}?category=llm`)).body.alerts;
    expect(again).toHaveLength(1);
    expect(again[0].id).not.toBe(id);
    await quiet();
  });

  it('acts on several ids at once, all or nothing', async () => {
    const a = await fireCritical('tts');
    const b = await fireCritical('network');
    const unknown = '00000000-0000-4000-8000-000000000000';
    let r = await api(h.base, 'POST', A, { action: 'acknowledge', ids: [a, unknown, b] });
    expect(r.status).toBe(404);
    expect(r.body.notFound).toEqual([unknown]);
    expect(r.body.error).toMatch(/nothing was changed/);
    expect((await api(h.base, 'GET', `${A}/${a}`)).body.alert.status).toBe('firing');
    r = await api(h.base, 'POST', A, { action: 'acknowledge', ids: [a] });
    expect(r.status).toBe(200);
    r = await api(h.base, 'POST', A, { action: 'acknowledge', ids: [a, b] });
    expect(r.status).toBe(409);
    expect((await api(h.base, 'GET', `${A}/${b}`)).body.alert.status).toBe('firing');
    r = await api(h.base, 'POST', A, { action: 'resolve', ids: [a, b, a], by: 'carol' });
    expect(r.status).toBe(200);
    expect(r.body.alerts).toHaveLength(2);
    await quiet();
  });
});

describe('bad input', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) => api(h.base, 'POST', A, body, headers);

  it('malformed JSON: 400 saying so', async () => {
    const r = await post('{"action": "acknowledge", "ids": [', {});
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/malformed JSON body/);
  });

  it('a body that is not JSON: 400', async () => {
    const r = await api(h.base, 'POST', A, 'action=acknowledge', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/expected a JSON body/);
  });

  it('unknown or missing action: 400 naming it', async () => {
    let r = await post({ action: 'snooze', ids: ['x'] });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('action: unknown action "snooze" (expected acknowledge or resolve)');
    r = await post({ ids: ['x'] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^action: required/);
  });

  it('missing, empty or malformed ids: 400 naming them', async () => {
    let r = await post({ action: 'acknowledge' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^ids: required/);
    r = await post({ action: 'acknowledge', ids: [] });
    expect(r.body.error).toMatch(/^ids: expected a non-empty list/);
    r = await post({ action: 'acknowledge', ids: 'abc' });
    expect(r.status).toBe(400);
    r = await post({ action: 'acknowledge', ids: ['00000000-0000-4000-8000-000000000000', 7] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^ids\[1\]: expected an alert id/);
    r = await post({ action: 'acknowledge', ids: Array.from({ length: 101 }, (_, i) => `id-${i}`) });
    expect(r.body.error).toMatch(/at most 100/);
  });

  it('unknown fields, non-string note or by: 400', async () => {
    expect((await post({ action: 'resolve', id: 'x' })).body.error).toMatch(/^id: unknown field/);
    expect((await post({ action: 'resolve', ids: ['x'], note: 5 })).body.error).toMatch(/^note: expected a string/);
    expect((await post({ action: 'resolve', ids: ['x'], by: { name: 'a' } })).body.error).toMatch(/^by: expected a string/);
    expect((await post([1, 2])).body.error).toMatch(/^body: expected a JSON object/);
  });

  it('unknown ids: 404 naming them', async () => {
    let r = await post({ action: 'resolve', ids: ['00000000-0000-4000-8000-00000000abcd'] });
    expect(r.status).toBe(404);
    expect(r.body.error).toBe('unknown alert id: 00000000-0000-4000-8000-00000000abcd (nothing was changed)');
    r = await post({ action: 'resolve', ids: ['not-a-uuid'] });
    expect(r.status).toBe(404);
    expect((await api(h.base, 'GET', `${A}/not-a-uuid`)).status).toBe(404);
  });

  it('oversized body: 413', async () => {
    const r = await post({ action: 'resolve', ids: ['x'], note: 'x'.repeat(70 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body.error).toBe('request body too large');
  });

  it('no token or a wrong one: 401, on every route', async () => {
    for (const [method, p] of [['GET', A], ['POST', A], ['GET', `${A}/rules`], ['PUT', `${A}/rules/high-error-rate`], ['GET', `${A}/stats`], ['POST', `${A}/alertmanager`]] as const) {
      expect((await api(h.base, method, p, method === 'GET' ? undefined : {}, { authorization: '' })).status, `${method} ${p}`).toBe(401);
      expect((await api(h.base, method, p, method === 'GET' ? undefined : {}, { authorization: 'Bearer nope' })).status, `${method} ${p}`).toBe(401);
    }
  });

  it('bad query parameters: 400 naming them', async () => {
    const cases: [string, RegExp][] = [
      [`${A}?status=open`, /status="open".*firing, acknowledged, resolved, active, all/],
      [`${A}?severity=urgent`, /severity="urgent"/],
      [`${A}?category=agent`, /category="agent"/],
      [`${A}?since=yesterday`, /since="yesterday"/],
      [`${A}?limit=0`, /limit="0"/],
      [`${A}?limit=abc`, /limit="abc"/],
      [`${A}?offset=-1`, /offset="-1"/],
      [`${A}?status=firing&status=resolved`, /give it once/],
      [`${A}/stats?interval=7s`, /interval="7s"/],
      [`${A}/stats?since=30d&interval=10s`, /at most 1000/],
    ];
    for (const [p, re] of cases) {
      const r = await api(h.base, 'GET', p);
      expect(r.status, p).toBe(400);
      expect(r.body.error, p).toMatch(re);
    }
  });
});

describe('filters and pagination', () => {
  it('filters by status, severity, category and since, and pages with limit/offset', async () => {
    await quiet();
    const start = clock.t;
    for (const c of ['llm', 'tts', 'database', 'network', 'integration']) {
      await fireCritical(c);
      clock.advance(1000);
    }
    let r = await api(h.base, 'GET', `${A}?severity=critical&category=llm,tts`);
    expect(r.body.alerts.map((a: { category: string }) => a.category).sort()).toEqual(['llm', 'tts']);
    r = await api(h.base, 'GET', `${A}?severity=warning`);
    expect(r.body.alerts.filter((a: { ruleId: string }) => a.ruleId === 'critical-error')).toHaveLength(0);
    const page1 = await api(h.base, 'GET', `${A}?category=llm,tts,database,network,integration&severity=critical&limit=2`);
    expect(page1.body).toMatchObject({ total: 5, limit: 2, offset: 0, nextOffset: 2 });
    const page3 = await api(h.base, 'GET', `${A}?category=llm,tts,database,network,integration&severity=critical&limit=2&offset=4`);
    expect(page3.body).toMatchObject({ total: 5, nextOffset: null });
    expect(page3.body.alerts).toHaveLength(1);
    // Newest first.
    expect(page1.body.alerts[0].category).toBe('integration');
    r = await api(h.base, 'GET', `${A}?since=${new Date(start + 2500).toISOString()}&severity=critical`);
    expect(r.body.alerts.map((a: { category: string }) => a.category).sort()).toEqual(['integration', 'network']);
    r = await api(h.base, 'GET', `${A}?since=1s&severity=critical`);
    expect(r.body.alerts.map((a: { category: string }) => a.category)).toEqual(['integration']);
    await quiet();
    r = await api(h.base, 'GET', `${A}?status=all&severity=critical&since=20m&category=database`);
    expect(r.body.alerts[0]).toMatchObject({ status: 'resolved', resolution: 'auto' });
  });
});

describe('rules', () => {
  it('lists defaults, file overrides and file rules with their source', async () => {
    const r = await api(h.base, 'GET', `${A}/rules`);
    expect(r.status).toBe(200);
    expect(r.body.evaluationIntervalMs).toBe(3_600_000);
    const byId = Object.fromEntries((r.body.rules as { id: string }[]).map((x) => [x.id, x]));
    expect(byId['high-error-rate']).toMatchObject({ kind: 'errors', window: '5m', operator: '>', threshold: 10, source: 'default' });
    expect(byId['database-errors']).toMatchObject({ threshold: 4, operator: '>=', window: '5m', source: 'file' });
    expect(byId['llm-errors']).toMatchObject({ kind: 'errors', threshold: 2, category: 'llm', source: 'file' });
    expect(byId['slow-responses']).toMatchObject({ kind: 'responseTime', threshold: 30 });
    expect(byId['kpi-timeToFirstToken-fail']).toMatchObject({ kind: 'kpi', kpi: 'timeToFirstToken', level: 'fail', severity: 'critical' });
  });

  it('the file rules apply: the database rule needs 4 errors now, the LLM rule fires at 2', async () => {
    await quiet();
    for (let i = 0; i < 3; i++) h.recorder.error('database');
    h.recorder.error('llm');
    h.recorder.error('llm');
    await h.evaluate();
    const open = (await api(h.base, 'GET', A)).body.alerts.map((a: { ruleId: string }) => a.ruleId);
    expect(open).toContain('llm-errors');
    expect(open).not.toContain('database-errors');
    await quiet();
  });

  it('PUT replaces a rule after validation, writes it to the config file and applies it', async () => {
    const listed = (await api(h.base, 'GET', `${A}/rules`)).body.rules.find((x: { id: string }) => x.id === 'high-error-rate');
    const r = await api(h.base, 'PUT', `${A}/rules/high-error-rate?by=alice`, { ...listed, threshold: 20, window: '10m' });
    expect(r.status).toBe(200);
    expect(r.body.rule).toMatchObject({ id: 'high-error-rate', threshold: 20, window: '10m', source: 'api', updatedBy: 'alice' });
    expect(r.body.persisted).toEqual({ store: 'postgres', file: { path: file, written: true } });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# raise the database rule to 4');
    expect(text).toMatch(/id: high-error-rate[\s\S]*threshold: 20/);
    const got = (await api(h.base, 'GET', `${A}/rules`)).body.rules.find((x: { id: string }) => x.id === 'high-error-rate');
    expect(got).toMatchObject({ threshold: 20, source: 'api' });

    for (let i = 0; i < 15; i++) h.recorder.error('network');
    await h.evaluate();
    expect((await api(h.base, 'GET', A)).body.alerts.map((a: { ruleId: string }) => a.ruleId)).not.toContain('high-error-rate');
    for (let i = 0; i < 6; i++) h.recorder.error('network');
    await h.evaluate();
    expect((await api(h.base, 'GET', A)).body.alerts.map((a: { ruleId: string }) => a.ruleId)).toContain('high-error-rate');
    await quiet();
  });

  it('PUT rejects invalid rules with 400 naming the field, unknown rules with 404', async () => {
    const put = (id: string, body: unknown) => api(h.base, 'PUT', `${A}/rules/${id}`, body);
    let r = await put('high-error-rate', { kind: 'errors', name: 'x', severity: 'warning', window: '5m', threshold: -1 });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('threshold: expected a positive number, got -1');
    r = await put('high-error-rate', { kind: 'errors', name: 'x', severity: 'urgent', window: 'soon', threshold: 3, colour: 'red' });
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^colour: unknown field/),
        expect.stringMatching(/^severity: expected one of critical, warning, info/),
        expect.stringMatching(/^window: expected a duration/),
      ]),
    );
    r = await put('high-error-rate', { kind: 'sometimes', name: 'x' });
    expect(r.body.error).toMatch(/^kind: expected one of errors, responseTime, kpi, dependency/);
    r = await put('high-error-rate', { id: 'other', kind: 'errors', name: 'x', severity: 'warning', window: '5m', threshold: 3 });
    expect(r.body.error).toMatch(/^id: "other" does not match/);
    r = await put('kpi-cpu-fail', { kind: 'kpi', name: 'CPU', severity: 'critical', kpi: 'gpu', level: 'fail' });
    expect(r.body.error).toMatch(/^kpi: expected one of timeToFirstToken/);
    r = await put('no-such-rule', { kind: 'errors', name: 'x', severity: 'warning', window: '5m', threshold: 3 });
    expect(r.status).toBe(404);
    r = await api(h.base, 'PUT', `${A}/rules/high-error-rate`, '{"kind":');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/malformed JSON/);
    r = await api(h.base, 'PUT', `${A}/rules/high-error-rate`, { kind: 'errors', name: 'x'.repeat(70 * 1024) });
    expect(r.status).toBe(413);
  });

  it('a disabled rule resolves its open alerts', async () => {
    h.recorder.error('llm');
    h.recorder.error('llm');
    await h.evaluate();
    expect((await api(h.base, 'GET', A)).body.alerts.map((a: { ruleId: string }) => a.ruleId)).toContain('llm-errors');
    const rule = (await api(h.base, 'GET', `${A}/rules`)).body.rules.find((x: { id: string }) => x.id === 'llm-errors');
    expect((await api(h.base, 'PUT', `${A}/rules/llm-errors`, { ...rule, enabled: false })).status).toBe(200);
    await h.alerting.evaluateNow();
    const all = (await api(h.base, 'GET', `${A}?status=all&category=llm`)).body.alerts.filter((a: { ruleId: string }) => a.ruleId === 'llm-errors');
    expect(all[0]).toMatchObject({ status: 'resolved', resolution: 'rule-disabled' });
    await quiet();
  });
});

describe('stats', () => {
  it('counts alerts by severity and category and the error trend per interval', async () => {
    await quiet();
    const t0 = clock.t - (clock.t % 60_000);
    clock.t = t0 + 1000;
    for (let i = 0; i < 3; i++) h.recorder.error('llm');
    clock.t = t0 + 61_000;
    h.recorder.error('database');
    h.alerting.trackError({ category: 'tts', level: 'critical', message: 'tts down' });
    clock.t = t0 + 121_000;
    await h.alerting.evaluateNow();
    const r = await api(h.base, 'GET', `${A}/stats?since=3m&interval=1m`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toMatchObject({ total: 5, byCategory: { llm: 3, database: 1, tts: 1 }, byLevel: { error: 4, critical: 1, warning: 0 }, bySource: { metric: 4, manual: 1 } });
    const trend = r.body.errors.trend as { start: string; total: number }[];
    expect(trend.map((p) => p.total)).toEqual([0, 3, 1 + 1, 0]);
    expect(trend[1]!.start).toBe(new Date(t0).toISOString());
    expect(r.body.alerts.open.bySeverity).toMatchObject({ critical: 1 });
    expect(r.body.alerts.open.byCategory).toMatchObject({ tts: 1 });
    expect(r.body.alerts.fired.total).toBeGreaterThanOrEqual(1);
    await quiet();
  });
});

describe('store unavailable', () => {
  // Issue 16 changed this: reads answer from the live view (`stale`), changes are queued (202),
  // and only what cannot be served from memory (stats) is a 503 with a clear message.
  it('answers from memory, queues changes and refuses stats with a clear 503 when Postgres cannot be reached; evaluation does not throw', async () => {
    const port = await freePort();
    const down = await harness({ clock, databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`, alerting: { statementTimeoutMs: 1000 } });
    try {
      expect(down.lines.some((l) => /alert store is not ready/.test(String(l.msg)))).toBe(true);
      await down.alerting.evaluateNow();
      let r = await api(down.base, 'GET', A);
      expect(r.status).toBe(200);
      expect(r.body.stale).toBe(true);
      expect(r.body.staleReason).toMatch(/alert store \(postgres\) not ready: .*ECONNREFUSED|alert store \(postgres\) unavailable/);
      r = await api(down.base, 'GET', `${A}/stats`);
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('CHATPULSE_ERR_STORE_UNAVAILABLE');
      expect(r.headers.get('retry-after')).toBe('10');
      r = await api(down.base, 'POST', A, { action: 'resolve', ids: ['00000000-0000-4000-8000-000000000000'] });
      expect(r.status).toBe(202);
      expect(r.body.queued).toBe(true);
      // Validation still answers first.
      expect((await api(down.base, 'POST', A, { action: 'nope', ids: ['x'] })).status).toBe(400);
      // The service keeps working.
      expect((await api(down.base, 'GET', '/api/v1/health')).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('without DATABASE_URL', () => {
  it('keeps state in memory and says plainly at start that it is not durable', async () => {
    const mem = await harness({ clock, databaseUrl: false, config: {} });
    try {
      const warning = mem.lines.find((l) => l.level === 40 && /IN MEMORY ONLY/.test(String(l.msg)));
      expect(warning?.msg).toMatch(/NOT durable, is lost on restart and is not shared between replicas/);
      mem.alerting.trackError({ category: 'llm', level: 'critical', message: 'x' });
      await mem.alerting.evaluateNow();
      const r = await api(mem.base, 'GET', A);
      expect(r.body.store).toEqual({ kind: 'memory', durable: false });
      const id = r.body.alerts[0].id;
      expect((await api(mem.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'dan' })).status).toBe(200);
      expect((await api(mem.base, 'POST', A, { action: 'acknowledge', ids: [id] })).status).toBe(409);
      expect((await api(mem.base, 'POST', A, { action: 'resolve', ids: [id] })).status).toBe(200);
      expect((await api(mem.base, 'GET', `${A}/${id}`)).body.transitions).toHaveLength(3);
    } finally {
      await mem.close();
    }
  });

  it('the alerts API is rate limited per client (20/min by default, shared by its routes)', async () => {
    const mem = await harness({ clock, databaseUrl: false, config: { rateLimits: {} } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await api(mem.base, 'GET', A)).status);
      for (let i = 0; i < 8; i++) codes.push((await api(mem.base, 'GET', `${A}/stats`)).status);
      const r = await api(mem.base, 'GET', `${A}/rules`);
      expect(codes.every((c) => c === 200)).toBe(true);
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await mem.close();
    }
  });
});

