/**
 * Hostile input against every route of the health router (read from the router itself, so a new
 * route is covered without editing this table): malformed percent-encoding, absurd numbers,
 * wrong types, wrong methods and unknown paths all get a JSON 4xx with a stable code, and no
 * store is touched with a value it cannot hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Router } from 'express';
import pino from 'pino';
import { createHealthRouter } from '../../../src/http/router';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { mountStatusPage } from '../../../src/ui';
import { Clock, createSchema, harness, TOKEN, type Harness } from '../alerts/helpers';

const clock = new Clock();
let h: Harness;
let db: Awaited<ReturnType<typeof createSchema>>;
let server: HealthServer;
let base: string;
let router: Router;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

interface Answer {
  status: number;
  type: string;
  body: Record<string, any>;
  headers: Headers;
}

async function call(method: string, path: string, body?: string): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: Record<string, any> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed, headers: res.headers };
}

function expectJsonRefusal(a: Answer, status: number, what: string): void {
  expect(a.status, `${what}: ${JSON.stringify(a.body)}`).toBe(status);
  expect(a.type, what).toMatch(/^application\/json/);
  expect(typeof a.body.error, what).toBe('string');
  expect(a.body.code, what).toMatch(/^CHATPULSE_ERR_[A-Z_]+$/);
  expect(a.body.requestId, what).toBeDefined();
  expect(JSON.stringify(a.body), what).not.toMatch(/invalid input syntax|at .*\.js:\d+|Cannot (GET|POST|PUT|PATCH|DELETE)/);
}

/** Every route of the router: its path pattern and methods. */
function routes(): { path: string; methods: string[] }[] {
  const out: { path: string; methods: string[] }[] = [];
  for (const layer of router.stack as unknown as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (layer.route === undefined) continue;
    out.push({ path: layer.route.path, methods: Object.keys(layer.route.methods).map((m) => m.toUpperCase()) });
  }
  return out;
}

/** A concrete path for a pattern: every parameter filled with `value`. */
const concrete = (pattern: string, value: string) => pattern.replace(/:[a-z]+/gi, value);

beforeAll(async () => {
  db = await createSchema('hostile');
  h = await harness({ clock, schema: db.schema });
  router = createHealthRouter({
    service: h.service,
    logger: pino({ level: 'silent' }),
    serviceName: 'hostile-test',
    version: '0.1.0',
    extend: (r, guard) => {
      h.alerting.extendRouter(r, guard);
      mountStatusPage(r, guard, { service: h.service, alerting: h.alerting, logger: pino({ level: 'silent' }), serviceName: 'hostile-test' });
    },
  });
  server = await listenHealthServer(router, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
  await server?.close();
  await h?.close();
  await db?.drop();
});

describe('hostile input on every health route', () => {
  it('knows the routes it tests (the alerts API, the status page and the health endpoints)', () => {
    const paths = routes().map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/health', '/api/v1/health/ready', '/api/v1/health/alerts', '/api/v1/health/alerts/rules/:id', '/api/v1/health/ui']));
  });

  it('a malformed percent-encoding in a path parameter is a JSON 400, never a 500', async () => {
    const bad = '%E0%A4%A';
    for (const r of routes().filter((x) => x.path.includes(':'))) {
      for (const m of r.methods) {
        const a = await call(m, concrete(r.path, bad), m === 'GET' ? undefined : '{}');
        expectJsonRefusal(a, 400, `${m} ${r.path}`);
        expect(a.body.error).toMatch(/malformed percent-encoding/);
      }
    }
    // and in a path no route takes
    expectJsonRefusal(await call('GET', `/api/v1/health/${bad}`), 404, 'unknown path with bad encoding');
  });

  it('a wrong method on a known path is a JSON 405 with Allow; OPTIONS answers Allow', async () => {
    for (const r of routes()) {
      const path = concrete(r.path, '00000000-0000-4000-8000-000000000000');
      const allowed = new Set(r.methods);
      for (const m of METHODS.filter((x) => !allowed.has(x))) {
        const a = await call(m, path);
        // Another route may serve the method on the same concrete path (GET /alerts/:id vs /alerts/rules).
        if (a.status !== 405) continue;
        expectJsonRefusal(a, 405, `${m} ${path}`);
        const allow = (a.headers.get('allow') ?? '').split(', ');
        for (const x of r.methods) expect(allow, `${m} ${path}`).toContain(x);
        expect(allow).not.toContain(m);
      }
    }
    const del = await call('DELETE', '/api/v1/health/alerts');
    expectJsonRefusal(del, 405, 'DELETE /alerts');
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    expectJsonRefusal(await call('POST', '/api/v1/health/live'), 405, 'POST /live');
    expectJsonRefusal(await call('PATCH', '/api/v1/health/alerts/rules/database-errors'), 405, 'PATCH rule');
    const opt = await fetch(`${base}/api/v1/health/alerts`, { method: 'OPTIONS' });
    expect(opt.status).toBe(204);
    expect(opt.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('an unknown path under the health prefixes is a JSON 404; paths outside them are not answered', async () => {
    for (const p of ['/api/v1/health/nope', '/api/v1/health/alerts/rules/x/y', '/api/metrics/streaming/nope', '/health/x', '/api/v1/health/ui/x.js']) {
      expectJsonRefusal(await call('GET', p), 404, p);
      expectJsonRefusal(await call('DELETE', p), 404, `DELETE ${p}`);
    }
    // The router may be mounted at the root of the host app: other paths stay the app's.
    const other = await call('GET', '/not-chatpulse');
    expect(other.status).toBe(404);
    expect(other.type).toMatch(/text\/html/);
  });

  it('absurd numbers and wrong types in query parameters are JSON 400s naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/health/alerts?since=99999999999d', /since/],
      ['/api/v1/health/alerts?since=1900-01-01T00:00:00Z', /since/],
      ['/api/v1/health/alerts?since=275761-01-01', /since/],
      ['/api/v1/health/alerts/stats?since=99999999999d', /since/],
      ['/api/v1/health/alerts?limit=1e999', /limit/],
      ['/api/v1/health/alerts?limit=-1', /limit/],
      ['/api/v1/health/alerts?offset=99999999999999999999', /offset/],
      ['/api/v1/health/alerts?status=firing&status=resolved', /status/],
      ['/api/v1/health/alerts?severity=<script>', /severity/],
      ['/api/v1/health/alerts/stats?interval=0s', /interval/],
      ['/api/v1/health/alerts/stats?interval=99999999999999999999d', /interval/],
      ['/api/v1/health?service=%00', /service/],
      ['/api/v1/health/database?details=maybe', /details/],
      ['/api/metrics/streaming/events?limit=NaN', /limit/],
    ];
    for (const [path, names] of cases) {
      const a = await call('GET', path);
      if (path.startsWith('/api/v1/health/database') && a.status === 404) continue; // no database check in this harness
      expectJsonRefusal(a, 400, path);
      expect(a.body.error, path).toMatch(names);
    }
  });

  it('wrong body types are JSON 400s; a body too large is a JSON 413', async () => {
    const A = '/api/v1/health/alerts';
    for (const body of ['[]', '"x"', '{"action":1,"ids":["a"]}', '{"action":"acknowledge","ids":[1]}', '{"action":"acknowledge","ids":"a"}', '{bad json']) {
      expectJsonRefusal(await call('POST', A, body), 400, body);
    }
    expectJsonRefusal(await call('PUT', `${A}/rules/database-errors`, '{"threshold":"many"}'), 400, 'rule with a wrong type');
    expectJsonRefusal(await call('POST', A, JSON.stringify({ action: 'acknowledge', ids: ['a'], note: 'x'.repeat(70_000) })), 413, 'large body');
    expectJsonRefusal(await call('POST', `${A}/alertmanager`, '{"version":"4","alerts":"no"}'), 400, 'alertmanager payload');
  });

  it('refusals of the guards are JSON with a code too (401, 429)', async () => {
    const res = await fetch(`${base}/api/v1/health/alerts`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.code).toBe('CHATPULSE_ERR_UNAUTHORIZED');
  });
});
