/**
 * The alerts API under a broken database, through a TCP proxy of the test's own between the
 * service and the real Postgres: cut (refused), hung (accepts, never answers) and slow. Every
 * endpoint answers within the API bound (reads from the live view, marked stale; changes queued
 * in the spool; stats refused fast), and what was accepted is in Postgres exactly once after
 * recovery: with one replica, with two sharing the database, and across a restart with the spool
 * on disk.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_FILE } from '../../../src/alerts/spool';
import { FaultProxy, type FaultMode } from '../../helpers/fault-proxy';
import { api, Clock, createSchema, harness, PG_URL, waitFor, type Harness } from './helpers';

const A = '/api/v1/health/alerts';
const API_TIMEOUT_MS = 300;
/** The correctness bound of the issue: the API timeout plus a generous margin for a loaded machine. */
const BOUND_MS = API_TIMEOUT_MS + 1200;
const clock = new Clock();
let db: Awaited<ReturnType<typeof createSchema>>;
let proxy: FaultProxy;
let dir: string;

const pgPort = Number(new URL(PG_URL).port || 5432);
const viaProxy = () => {
  const u = new URL(PG_URL);
  u.port = String(proxy.port);
  return u.toString();
};

function amPayload(fingerprint: string, status: 'firing' | 'resolved' = 'firing') {
  return {
    version: '4',
    groupKey: `{}:{alertname="Fault${fingerprint}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'chatpulse-health',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status,
        labels: { alertname: `Fault${fingerprint}`, severity: 'warning', service_name: 'chatbot' },
        annotations: { summary: `fault test ${fingerprint}` },
        startsAt: '2025-01-23T09:55:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint,
      },
    ],
  };
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t };
}

async function replica(o: { spoolDir?: string; instanceId?: string } = {}): Promise<Harness> {
  return harness({
    clock,
    schema: db.schema,
    databaseUrl: viaProxy(),
    alerting: { statementTimeoutMs: 1500, apiTimeoutMs: API_TIMEOUT_MS, ...(o.spoolDir !== undefined ? { spoolDir: o.spoolDir } : {}), ...(o.instanceId !== undefined ? { instanceId: o.instanceId } : {}) },
  });
}

/** Rows of an Alertmanager fingerprint in Postgres (read directly, not through the proxy). */
async function rowsOf(fingerprint: string) {
  return db.query(`SELECT id, status FROM chatpulse_alerts WHERE labels->>'alertname' = $1`, [`Fault${fingerprint}`]);
}

beforeAll(async () => {
  db = await createSchema('faults');
  proxy = await new FaultProxy(pgPort).start();
  dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-spool-'));
});

afterAll(async () => {
  await proxy?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the alerts API while Postgres is cut, hung or slow', () => {
  let h: Harness;
  let openId: string;
  beforeAll(async () => {
    await proxy.set('pass');
    h = await replica();
    const r = await api(h.base, 'POST', `${A}/alertmanager`, amPayload('open-before'));
    expect(r.status).toBe(200);
    openId = (await api(h.base, 'GET', A)).body.alerts.find((a: { title: string }) => /open-before/.test(a.title)).id;
  });
  afterAll(async () => {
    await proxy.set('pass');
    await h?.close();
  });

  for (const [mode, delay] of [['hang', 0], ['down', 0], ['slow', 4000]] as [FaultMode, number][]) {
    it(`${mode}: every endpoint answers within the bound; accepted changes land exactly once after recovery`, async () => {
      await proxy.set(mode, delay);
      const fp = `during-${mode}`;
      const requests: [string, Promise<{ value: Awaited<ReturnType<typeof api>>; ms: number }>][] = [];
      // Concurrent requests must not queue behind each other for a pool connection.
      for (let i = 0; i < 4; i++) requests.push([`GET ${A}`, timed(api(h.base, 'GET', `${A}?status=all`))]);
      for (let i = 0; i < 2; i++) requests.push([`GET ${A}/:id`, timed(api(h.base, 'GET', `${A}/${openId}`))]);
      for (let i = 0; i < 2; i++) requests.push([`GET ${A}/stats`, timed(api(h.base, 'GET', `${A}/stats`))]);
      requests.push([`POST ${A}/alertmanager`, timed(api(h.base, 'POST', `${A}/alertmanager`, amPayload(fp)))]);
      requests.push([`POST ${A}/alertmanager again`, timed(api(h.base, 'POST', `${A}/alertmanager`, amPayload(fp)))]);
      if (mode === 'hang') requests.push([`POST ${A} acknowledge`, timed(api(h.base, 'POST', A, { action: 'acknowledge', ids: [openId], by: 'oncall' }))]);
      requests.push(['GET ready', timed(api(h.base, 'GET', '/api/v1/health/ready'))]);
      for (const [what, p] of requests) {
        const { value: r, ms } = await p;
        expect(ms, `${mode} ${what} took ${Math.round(ms)} ms`).toBeLessThan(BOUND_MS);
        if (what.startsWith(`GET ${A}/stats`)) {
          // Stats cannot be served from memory: refused fast, as an outage, with Retry-After.
          if (r.status !== 200) {
            expect(r.status).toBe(503);
            expect(r.body.code).toBe('CHATPULSE_ERR_STORE_UNAVAILABLE');
            expect(r.headers.get('retry-after')).toBe('10');
          }
        } else if (what.startsWith('GET /api/v1/health/alerts')) {
          expect(r.status, what).toBe(200);
          if (r.body.stale === true) expect(r.body.staleReason).toMatch(/alert store/);
        } else if (what.startsWith('POST')) {
          // A slow store may still take a change within the bound; a cut or hung one cannot.
          if (mode === 'slow') expect([200, 202], `${what}: ${JSON.stringify(r.body)}`).toContain(r.status);
          else expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(202);
          if (r.status === 202) expect(r.body).toMatchObject({ queued: true, spool: { durable: false } });
        }
      }
      // The first read of an outage may still reach the store (slow); the rest answer from memory.
      const reads = await Promise.all(requests.filter(([w]) => w === `GET ${A}`).map(([, p]) => p));
      if (mode !== 'slow') expect(reads.some((x) => x.value.body.stale === true)).toBe(true);
      const stale = reads.find((x) => x.value.body.stale === true)?.value.body;
      if (stale !== undefined) expect(stale.alerts.map((a: { id: string }) => a.id)).toContain(openId);

      await proxy.set('pass');
      await waitFor(() => h.alerting.status().spool.size === 0, 20_000, 'the spool to drain');
      await waitFor(async () => (await rowsOf(fp)).length > 0, 10_000, 'the queued alert in Postgres');
      expect(await rowsOf(fp)).toHaveLength(1);
      const transitions = await db.query(`SELECT to_status FROM chatpulse_alert_transitions t JOIN chatpulse_alerts a ON a.id = t.alert_id WHERE a.labels->>'alertname' = $1`, [`Fault${fp}`]);
      expect(transitions).toEqual([{ to_status: 'firing' }]);
      if (mode === 'hang') {
        const acked = await db.query(`SELECT status, acknowledged_by FROM chatpulse_alerts WHERE id = $1`, [openId]);
        expect(acked).toEqual([{ status: 'acknowledged', acknowledged_by: 'oncall' }]);
        const acks = await db.query(`SELECT 1 FROM chatpulse_alert_transitions WHERE alert_id = $1 AND to_status = 'acknowledged'`, [openId]);
        expect(acks).toHaveLength(1);
      }
      // And the API reads the store again.
      await waitFor(async () => (await api(h.base, 'GET', A)).body.stale === undefined, 5000, 'fresh reads');
    }, 60_000);
  }

  it('over the spool bound, a change is refused with 503 as before', async () => {
    const small = await harness({ clock, schema: db.schema, databaseUrl: viaProxy(), config: { alerts: { spool: { maxEntries: 2 } } }, alerting: { statementTimeoutMs: 1500, apiTimeoutMs: API_TIMEOUT_MS } });
    try {
      await proxy.set('down');
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await api(small.base, 'POST', `${A}/alertmanager`, amPayload(`bound-${i}`)));
      expect(answers.map((r) => r.status)).toEqual([202, 202, 503]);
      expect(answers[2]!.body.error).toMatch(/spool is full \(2 changes waiting\)/);
      expect(answers[2]!.headers.get('retry-after')).toBe('10');
      await proxy.set('pass');
      await waitFor(() => small.alerting.status().spool.size === 0, 20_000, 'the spool to drain');
      expect(await rowsOf('bound-0')).toHaveLength(1);
      expect(await rowsOf('bound-1')).toHaveLength(1);
      expect(await rowsOf('bound-2')).toHaveLength(0);
    } finally {
      await proxy.set('pass');
      await small.close();
    }
  }, 60_000);
});

describe('two replicas sharing the database', () => {
  it('the same Alertmanager notification accepted by both during an outage is one alert after recovery', async () => {
    await proxy.set('pass');
    const a = await replica({ instanceId: 'replica-a' });
    const b = await replica({ instanceId: 'replica-b' });
    try {
      await proxy.set('hang');
      const [ra, rb] = await Promise.all([api(a.base, 'POST', `${A}/alertmanager`, amPayload('shared')), api(b.base, 'POST', `${A}/alertmanager`, amPayload('shared'))]);
      expect([ra.status, rb.status]).toEqual([202, 202]);
      await proxy.set('pass');
      await waitFor(() => a.alerting.status().spool.size === 0 && b.alerting.status().spool.size === 0, 20_000, 'both spools to drain');
      expect(await rowsOf('shared')).toHaveLength(1);
    } finally {
      await proxy.set('pass');
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('the spool on disk', () => {
  it('changes accepted before a restart are written after it, once; the file is emptied', async () => {
    await proxy.set('down');
    const first = await replica({ spoolDir: dir });
    try {
      const r = await api(first.base, 'POST', `${A}/alertmanager`, amPayload('across-restart'));
      expect(r.status).toBe(202);
      expect(r.body.spool.durable).toBe(true);
      expect(readFileSync(path.join(dir, SPOOL_FILE), 'utf8')).toMatch(/across-restart/);
    } finally {
      await first.close();
    }
    expect(first.lines.some((l) => /spooled changes on disk/.test(String(l.msg)))).toBe(true);
    await proxy.set('pass');
    const second = await replica({ spoolDir: dir });
    try {
      await waitFor(() => second.alerting.status().spool.size === 0, 20_000, 'the spool to drain');
      expect(await rowsOf('across-restart')).toHaveLength(1);
      // The file is rewritten right after the last entry is taken from memory: wait for that write.
      await waitFor(() => readFileSync(path.join(dir, SPOOL_FILE), 'utf8') === '', 5000, 'the spool file to be emptied');
      expect(readFileSync(path.join(dir, SPOOL_FILE), 'utf8')).toBe('');
    } finally {
      await second.close();
    }
  }, 60_000);
});
