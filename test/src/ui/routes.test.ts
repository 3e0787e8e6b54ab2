import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { createHealth, type Health } from '../../../src/service/create-health';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { APP_JS_PATH } from '../../../src/ui/assets/app-js';
import { CSP } from '../../../src/ui/page';
import { SseClient } from './sse-client';

/**
 * The status page as createHealth mounts it (router `extend`), over a recorder the test feeds:
 * the stream follows evaluations, status changes and alert changes; auth with and without a token.
 */
const silent = pino({ level: 'silent' });

async function start(env: Record<string, string>, config: Record<string, unknown> = {}): Promise<{ health: Health; server: HealthServer; base: string; recorder: Recorder }> {
  const recorder = new Recorder();
  const health = await createHealth({ config: { minSamples: 5, hysteresis: 1, disabledKpis: ['cpu', 'memory', 'eventLoopDelay'], ...config }, env, recorder, logger: silent, serviceName: 'routes-test' });
  const server = await listenHealthServer(health.router, 0, '127.0.0.1');
  return { health, server, base: `http://127.0.0.1:${server.address.port}`, recorder };
}

describe('status page without a token (auth off)', () => {
  let h: Awaited<ReturnType<typeof start>>;
  const clients: SseClient[] = [];
  beforeAll(async () => {
    h = await start({});
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await h.server.close();
    await h.health.close();
  });

  it('serves the page and its assets under a strict CSP, with nothing inline', async () => {
    const res = await fetch(`${h.base}/api/v1/health/ui`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<title>routes-test status · Chatpulse</title>');
    expect(html).toMatch(/<script src="\/api\/v1\/health\/ui\/app\.js\?ticket=[^"]+" defer><\/script>/);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+=/i);
    expect(html).toContain('aria-live="polite"');
    const js = await fetch(`${h.base}/api/v1/health/ui/app.js`);
    expect(js.status).toBe(200);
    // The client bundled by npm run build, from the package's dist/ even when the server runs from the sources.
    expect(APP_JS_PATH).toBe(path.resolve(__dirname, '../../../dist/ui/app.js'));
    const bundle = readFileSync(APP_JS_PATH, 'utf8');
    expect(await js.text()).toBe(bundle);
    // One classic strict script (no import or export left: the page loads it with a ticket, not as a module),
    // valid, that never evaluates strings or writes HTML (the CSP would block eval anyway) and uses nothing of Node.
    expect(bundle.startsWith('"use strict";')).toBe(true);
    expect(() => new Function(bundle)).not.toThrow();
    expect(bundle).not.toMatch(/^\s*(import|export)\b/m);
    expect(bundle).not.toMatch(/\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(bundle).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b|node:/);
    // The page's own code, from the typed sources.
    expect(bundle).toContain('src/ui/client/main.ts');
    expect((await fetch(`${h.base}/api/v1/health/ui/app.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('streams a snapshot after every evaluation, with the KPIs, latency and chart history', async () => {
    const c = await SseClient.open(`${h.base}/api/v1/health/stream`);
    clients.push(c);
    await c.until((x) => x.snapshots().length >= 1, 3000, 'the first snapshot');
    const first = c.snapshots()[0];
    expect(first).toMatchObject({ v: 1, service: 'routes-test', status: 'healthy', alerts: { available: true, active: [] } });
    expect(first.limits.firstToken).toEqual({ warn: 1000, fail: 2000 });

    const route = h.recorder.route('/chat');
    for (let i = 0; i < 20; i++) {
      h.recorder.streamStarted(route);
      h.recorder.firstToken(route, 1.5);
      h.recorder.streamEnded(route, 'completed', 2);
    }
    h.recorder.cacheLookup('kb', 'hit', 3);
    h.recorder.cacheLookup('kb', 'miss', 1);
    const n = c.snapshots().length;
    await h.health.service.evaluate();
    await c.until((x) => x.snapshots().length > n && x.snapshots().at(-1).status === 'degraded', 3000, 'a degraded snapshot');
    const s = c.snapshots().at(-1);
    const ttft = s.checks.find((k: { name: string }) => k.name === 'timeToFirstToken');
    expect(ttft).toMatchObject({ kind: 'kpi', group: 'streaming', status: 'warn', graded: true, value: '1500ms', threshold: '≤1000ms (fail >2000ms)' });
    expect(s.latency.firstToken).toMatchObject({ count: 20, p95: expect.any(Number) });
    expect(s.latency.firstToken.p95).toBeGreaterThan(1400);
    expect(s.caches).toEqual([{ name: 'kb', hits: 3, misses: 1, hitRate: 0.75 }]);
    expect(s.events.length).toBeGreaterThan(0);
    expect(s.history.points.length).toBeGreaterThanOrEqual(2);
    expect(s.history.points.at(-1).firstToken[1]).toBeGreaterThan(1400);
    expect(s.history).toMatchObject({ capacity: 120, intervalMs: h.health.config.evaluationIntervalMs });
    expect(s.checks.some((k: { kind: string; name: string }) => k.kind === 'dependency' && k.name === 'system:disk')).toBe(true);
  });

  it('streams the model calls the app made, by provider and model, from the passive checks’ window', async () => {
    const c = await SseClient.open(`${h.base}/api/v1/health/stream`);
    clients.push(c);
    await c.until((x) => x.snapshots().length >= 1, 3000, 'the first snapshot');
    expect(c.snapshots()[0].upstream).toEqual([]);
    const series = h.recorder.modelCalls.series({ operation: 'chat', provider: 'openai', requestModel: 'gpt-4o-mini', address: 'api.openai.com', port: 443 }, undefined);
    for (let i = 0; i < 10; i++) h.recorder.modelCallEnded(series, 'chat', i === 0 ? 'rate_limited' : undefined, 1, 0.25, 10, 20);
    const n = c.snapshots().length;
    await h.health.service.evaluate();
    await c.until((x) => x.snapshots().length > n && x.snapshots().at(-1).upstream.length > 0, 3000, 'a snapshot with the model calls');
    const [row] = c.snapshots().at(-1).upstream;
    // 1 error in 10 calls: over the 5 % fail threshold, with 10 ≥ minSamples calls.
    expect(row).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', calls: 10, errors: 1, errorRate: 0.1, status: 'fail', graded: true });
    expect(row.firstChunkP50Ms).toBeCloseTo(250, -1);
    expect(row.firstChunkP95Ms).toBeCloseTo(250, -1);
    // The same grade as its model:openai check in the Checks table.
    expect(c.snapshots().at(-1).checks.find((k: { name: string }) => k.name === 'model:openai')).toMatchObject({ status: 'fail' });
  });

  it('streams alert changes: fired, acknowledged through the API, resolved', async () => {
    const c = await SseClient.open(`${h.base}/api/v1/health/stream`);
    clients.push(c);
    const active = () => (c.snapshots().at(-1)?.alerts.active ?? []) as { id: string; ruleId: string; status: string; acknowledgedBy: string | null }[];
    h.health.alerting.trackError({ category: 'llm', level: 'critical', message: 'provider down' });
    await h.health.alerting.evaluateNow();
    await c.until(() => active().some((a) => a.ruleId === 'critical-error'), 3000, 'the critical alert');
    const id = active().find((a) => a.ruleId === 'critical-error')!.id;
    const post = (action: string) =>
      fetch(`${h.base}/api/v1/health/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action, ids: [id], by: 'alice' }) });
    expect((await post('acknowledge')).status).toBe(200);
    await c.until(() => active().some((a) => a.id === id && a.status === 'acknowledged'), 3000, 'acknowledged');
    expect(active().find((a) => a.id === id)!.acknowledgedBy).toBe('alice');
    expect((await post('resolve')).status).toBe(200);
    await c.until(() => !active().some((a) => a.id === id), 3000, 'resolved');
    expect(c.snapshots().at(-1).alerts.resolved[0]).toMatchObject({ id, status: 'resolved', resolvedBy: 'alice', resolution: 'manual' });
  });

  it('on shutdown sends the last snapshot, ends the streams and refuses new ones', async () => {
    const c = await SseClient.open(`${h.base}/api/v1/health/stream`);
    clients.push(c);
    await c.until((x) => x.snapshots().length >= 1);
    h.health.service.beginShutdown();
    await c.until((x) => x.ended, 3000, 'the stream to end');
    expect(c.snapshots().at(-1)).toMatchObject({ shuttingDown: true });
    const late = await fetch(`${h.base}/api/v1/health/stream`);
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('5');
  });
});

describe('status page with CHATPULSE_HEALTH_TOKEN', () => {
  const TOKEN = 'rt-t0ken';
  let h: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    h = await start({ CHATPULSE_HEALTH_TOKEN: TOKEN }, { rateLimits: { '/api/v1/health/ui': { limit: 3, window: '1m' } } });
  });
  afterAll(async () => {
    await h.server.close();
    await h.health.close();
  });

  it('takes the token as a header or ?token= on the page, a ticket on assets and stream, and applies the configured rate limit', async () => {
    expect((await fetch(`${h.base}/api/v1/health/ui`)).status).toBe(401);
    const page = await fetch(`${h.base}/api/v1/health/ui?token=${TOKEN}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain(TOKEN);
    const ticket = decodeURIComponent(/name="chatpulse-ticket" content="([^"]+)"/.exec(html)![1]!);
    expect((await fetch(`${h.base}/api/v1/health/ui/app.js?ticket=${encodeURIComponent(ticket)}`)).status).toBe(200);
    // A ticket is not a token: it does not open the JSON endpoints.
    expect((await fetch(`${h.base}/api/v1/health/deep?ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
    expect((await fetch(`${h.base}/api/v1/health/deep?token=${TOKEN}`)).status).toBe(401);
    const c = await SseClient.open(`${h.base}/api/v1/health/stream?ticket=${encodeURIComponent(ticket)}`);
    await c.until((x) => x.snapshots().length >= 1);
    c.close();
    // The page's guard is the router's: its rate limit applies (3 per minute here).
    expect((await fetch(`${h.base}/api/v1/health/ui`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const limited = await fetch(`${h.base}/api/v1/health/ui?token=${TOKEN}`);
    expect(limited.status).toBe(429);
  });
});
