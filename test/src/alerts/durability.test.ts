import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/alerts/postgres-store';
import { api, Clock, createSchema, freePort, harness, holdCall, PG_URL, Receiver, waitFor, type Harness } from './helpers';

/**
 * Durable state in real Postgres: a restart loses nothing, and two replicas on one database never
 * fire the same alert twice nor lose an acknowledgement.
 */

const A = '/api/v1/health/alerts';
const FAST_WEBHOOK = { timeoutMs: 2000, retryDelayMs: 30, maxRetryDelayMs: 100, pollIntervalMs: 25, rateLimit: { limit: 1000, windowMs: 1000 } };

let db: Awaited<ReturnType<typeof createSchema>>;
const open: Harness[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  db = await createSchema('durable');
});

afterAll(async () => {
  for (const h of open) await h.close().catch(() => undefined);
  for (const r of receivers) await r.close();
  await db?.drop();
});

async function replica(clock: Clock, schema: string, instanceId: string, webhookUrl?: string): Promise<Harness> {
  const h = await harness({
    clock,
    schema,
    alerting: { instanceId, ...(webhookUrl !== undefined ? { webhookUrl, webhook: FAST_WEBHOOK } : {}) },
  });
  open.push(h);
  return h;
}

async function closeReplica(h: Harness): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

describe('restart durability', () => {
  it('alerts, acknowledgements, history, error counts and API rule changes survive a restart, without re-firing or re-notifying', async () => {
    const clock = new Clock();
    const receiver = new Receiver();
    receivers.push(receiver);
    await receiver.listen();
    const first = await replica(clock, db.schema, 'replica-1', receiver.url);
    for (let i = 0; i < 12; i++) first.recorder.error('llm');
    first.alerting.trackError({ category: 'database', level: 'critical', message: 'primary lost' });
    await first.evaluate();
    let list = (await api(first.base, 'GET', A)).body.alerts as { id: string; ruleId: string }[];
    expect(list.map((a) => a.ruleId).sort()).toEqual(['critical-error', 'high-error-rate']);
    const critical = list.find((a) => a.ruleId === 'critical-error')!.id;
    expect((await api(first.base, 'POST', A, { action: 'acknowledge', ids: [critical], by: 'alice', note: 'failing over' })).status).toBe(200);
    const rule = (await api(first.base, 'GET', `${A}/rules`)).body.rules.find((r: { id: string }) => r.id === 'slow-responses');
    expect((await api(first.base, 'PUT', `${A}/rules/slow-responses`, { ...rule, threshold: 12 })).status).toBe(200);
    await waitFor(() => receiver.received.length >= 2, 5000, 'two fired notifications');
    await closeReplica(first);

    clock.advance(30_000);
    const second = await replica(clock, db.schema, 'replica-1-restarted', receiver.url);
    // The cache is loaded at start: the dashboard sees the alerts before any evaluation.
    expect(second.alerting.activeAlerts().map((a) => a.ruleId).sort()).toEqual(['critical-error', 'high-error-rate']);
    await second.evaluate();
    list = (await api(second.base, 'GET', A)).body.alerts;
    expect(list).toHaveLength(2);
    const ack = (await api(second.base, 'GET', `${A}/${critical}`)).body;
    expect(ack.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', note: 'failing over', instanceId: 'replica-1' });
    expect(ack.transitions.map((t: { to: string }) => t.to)).toEqual(['firing', 'acknowledged']);
    // The 12 errors were saved: the stats and the rule window still see them after the restart.
    const stats = (await api(second.base, 'GET', `${A}/stats?since=5m`)).body;
    expect(stats.errors.byCategory).toMatchObject({ llm: 12, database: 1 });
    expect((await api(second.base, 'GET', `${A}/rules`)).body.rules.find((r: { id: string }) => r.id === 'slow-responses')).toMatchObject({ threshold: 12, source: 'api' });
    await second.alerting.flushNotifications();
    expect(receiver.received.map((r) => r.event)).toEqual(['fired', 'fired']);
    const migrations = await db.query('SELECT version FROM chatpulse_alert_migrations');
    // Issue 16 added migration 2 (idempotency keys of spooled changes).
    expect(migrations).toEqual([{ version: 1 }, { version: 2 }]);

    // And the conditions clear: both resolve once, each with one resolved notification.
    clock.advance(6 * 60_000);
    await second.evaluate();
    expect((await api(second.base, 'GET', A)).body.alerts).toHaveLength(0);
    await waitFor(() => receiver.received.length === 4, 5000, 'two resolved notifications');
    expect(receiver.received.map((r) => r.event).sort()).toEqual(['fired', 'fired', 'resolved', 'resolved']);
    await closeReplica(second);
  });

  it('notifications pending while the receiver is down are delivered after a restart', async () => {
    const clock = new Clock();
    const port = await freePort();
    const receiver = new Receiver();
    receivers.push(receiver);
    const url = `http://127.0.0.1:${port}/hooks/slack`;
    const schema = await createSchema('pending');
    try {
      const first = await replica(clock, schema.schema, 'p-1', url);
      first.alerting.trackError({ category: 'tts', level: 'critical', message: 'voices gone' });
      await first.alerting.evaluateNow();
      await waitFor(async () => Number((await schema.query(`SELECT attempts FROM chatpulse_alert_notifications`))[0]?.attempts ?? 0) >= 2, 5000, 'failed attempts');
      await closeReplica(first);
      const [row] = await schema.query(`SELECT status, attempts, last_error FROM chatpulse_alert_notifications`);
      expect(row).toMatchObject({ status: 'pending' });
      expect(String(row!.last_error)).toMatch(/ECONNREFUSED/);

      await receiver.listen(port);
      const second = await replica(clock, schema.schema, 'p-2', url);
      await waitFor(() => receiver.received.length === 1, 5000, 'the delivery after restart');
      expect(receiver.received[0]).toMatchObject({ event: 'fired' });
      expect(receiver.received[0]!.body.text).toMatch(/\[FIRING\] CRITICAL\* \(tts\)/);
      await waitFor(async () => (await schema.query(`SELECT status FROM chatpulse_alert_notifications`))[0]?.status === 'sent', 5000, 'the notification marked sent');
      await closeReplica(second);
    } finally {
      await schema.drop();
    }
  });
});

describe('Postgres trouble during operation', () => {
  it('connections killed under it: logged, nothing crashes, the next evaluation works again', async () => {
    const clock = new Clock();
    const h = await replica(clock, db.schema, `kill-${process.pid}`);
    h.alerting.trackError({ category: 'network', level: 'critical', message: 'x' });
    await h.alerting.evaluateNow();
    const killed = await db.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [`chatpulse-alerts kill-${process.pid}`]);
    expect(killed.length).toBeGreaterThan(0);
    await waitFor(() => h.lines.some((l) => l.msg === 'alerts: Postgres connection lost'), 5000, 'the lost connection logged');
    clock.advance(6 * 60_000);
    await h.alerting.evaluateNow();
    expect(h.alerting.status().lastEvaluation).toMatchObject({ ok: true });
    expect((await api(h.base, 'GET', `${A}?category=network`)).body.alerts).toHaveLength(0);
    expect((await api(h.base, 'GET', A)).status).toBe(200);
    await closeReplica(h);
  });

  it('a connection killed under a single statement: reported once, the statement retried on a fresh connection', async () => {
    const schema = await createSchema('killq');
    const app = `chatpulse-killq-${process.pid}`;
    const lost: Error[] = [];
    const store = new PostgresStore({ connectionString: PG_URL, schema: schema.schema, applicationName: app, onPoolError: (e) => lost.push(e) });
    try {
      await store.init();
      // Hold the statement on a lock so the kill lands while it runs, not while the connection idles.
      await schema.query('BEGIN');
      await schema.query('LOCK TABLE chatpulse_alerts IN ACCESS EXCLUSIVE MODE');
      const pending = store.active();
      const blocked = await waitFor(async () => {
        const rows = await db.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app]);
        return rows.length === 1 ? rows[0]!.pid : undefined;
      }, 5000, 'the statement waiting on the lock');
      await db.query('SELECT pg_terminate_backend($1)', [blocked]);
      await waitFor(() => lost.length > 0, 5000, 'the lost connection reported');
      await schema.query('COMMIT');
      await expect(pending).resolves.toEqual([]);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.message).toMatch(/terminat/i);
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});

describe('rule changes during an evaluation', () => {
  it('a rule PUT while an evaluation reads the stored overrides is not reverted by that older read', async () => {
    const schema = await createSchema('putrace');
    const h = await replica(new Clock(), schema.schema, 'put-race');
    // Hold the evaluation's read of the overrides (taken before the PUT) until the PUT is done.
    const held = holdCall(PostgresStore.prototype, 'ruleOverrides', 0);
    try {
      const evaluation = h.alerting.evaluateNow();
      await waitFor(() => held.calls() === 1 || undefined, 5000, "the evaluation's read held");
      const rule = (await api(h.base, 'GET', `${A}/rules`)).body.rules.find((r: { id: string }) => r.id === 'slow-responses');
      expect((await api(h.base, 'PUT', `${A}/rules/slow-responses`, { ...rule, threshold: 12 })).status).toBe(200);
      held.release();
      await evaluation;
      const after = (await api(h.base, 'GET', `${A}/rules`)).body.rules.find((r: { id: string }) => r.id === 'slow-responses');
      expect(after).toMatchObject({ threshold: 12 });
    } finally {
      held.restore();
      await closeReplica(h);
      await schema.drop();
    }
  });
});

describe('two replicas on one database', () => {
  it('run migrations together safely', async () => {
    const fresh = await createSchema('migrate');
    const clock = new Clock();
    try {
      const [a, b] = await Promise.all([replica(clock, fresh.schema, 'm-a'), replica(clock, fresh.schema, 'm-b')]);
      expect(a.alerting.status().store.ready).toBe(true);
      expect(b.alerting.status().store.ready).toBe(true);
      expect(await fresh.query('SELECT version FROM chatpulse_alert_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);
      await closeReplica(a);
      await closeReplica(b);
    } finally {
      await fresh.drop();
    }
  });

  it('never fire the same alert twice, and notify once, however their evaluations interleave', async () => {
    const schema = await createSchema('twice');
    const clock = new Clock();
    const receiver = new Receiver();
    receivers.push(receiver);
    await receiver.listen();
    try {
      const a = await replica(clock, schema.schema, 'r-a', receiver.url);
      const b = await replica(clock, schema.schema, 'r-b', receiver.url);
      const events: string[] = [];
      a.alerting.onChange((e) => events.push(`a:${e.type}`));
      b.alerting.onChange((e) => events.push(`b:${e.type}`));
      // Six errors on each replica: neither alone passes 10, the service does (counts are shared).
      for (let i = 0; i < 6; i++) {
        a.recorder.error('network');
        b.recorder.error('network');
      }
      for (let round = 0; round < 5; round++) await Promise.all([a.alerting.evaluateNow(), b.alerting.evaluateNow(), a.alerting.evaluateNow()]);
      const rows = await schema.query(`SELECT id, status, instance_id FROM chatpulse_alerts WHERE rule_id = 'high-error-rate'`);
      expect(rows).toHaveLength(1);
      expect(events.filter((e) => e.endsWith(':fired'))).toHaveLength(2); // one per replica's live view
      await waitFor(() => receiver.received.length >= 1, 5000, 'the fired notification');
      await Promise.all([a.alerting.flushNotifications(), b.alerting.flushNotifications()]);
      expect(receiver.received).toHaveLength(1);
      expect(await schema.query(`SELECT count(*)::int AS n FROM chatpulse_alert_notifications`)).toEqual([{ n: 1 }]);

      // Both see the condition clear; only one resolves it and notifies.
      clock.advance(6 * 60_000);
      await Promise.all([a.alerting.evaluateNow(), b.alerting.evaluateNow()]);
      expect(await schema.query(`SELECT status FROM chatpulse_alerts`)).toEqual([{ status: 'resolved' }]);
      expect(await schema.query(`SELECT to_status FROM chatpulse_alert_transitions ORDER BY id`)).toEqual([{ to_status: 'firing' }, { to_status: 'resolved' }]);
      await waitFor(() => receiver.received.length === 2, 5000, 'the resolved notification');
      await closeReplica(a);
      await closeReplica(b);
      expect(receiver.received.map((r) => r.event)).toEqual(['fired', 'resolved']);
    } finally {
      await schema.drop();
    }
  });

  it('never lose an acknowledgement: concurrent acks, ack against auto-resolve, double resolve', async () => {
    const schema = await createSchema('ack');
    const clock = new Clock();
    try {
      const a = await replica(clock, schema.schema, 'k-a');
      const b = await replica(clock, schema.schema, 'k-b');
      const fire = async (category: string) => {
        a.alerting.trackError({ category, level: 'critical', message: category } as never);
        await a.alerting.evaluateNow();
        const r = await api(a.base, 'GET', `${A}?category=${category}`);
        return r.body.alerts[0].id as string;
      };
      // Concurrent acks through both replicas: exactly one wins, the other is told 409.
      for (const category of ['llm', 'tts', 'network']) {
        const id = await fire(category);
        const [r1, r2] = await Promise.all([
          api(a.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'alice' }),
          api(b.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'bob' }),
        ]);
        expect([r1.status, r2.status].sort()).toEqual([200, 409]);
        const winner = r1.status === 200 ? 'alice' : 'bob';
        const got = (await api(b.base, 'GET', `${A}/${id}`)).body;
        expect(got.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: winner });
        expect(got.transitions.filter((t: { to: string }) => t.to === 'acknowledged')).toEqual([expect.objectContaining({ by: winner })]);
        // Double resolve through both replicas: one 200, one 409.
        const [s1, s2] = await Promise.all([api(a.base, 'POST', A, { action: 'resolve', ids: [id] }), api(b.base, 'POST', A, { action: 'resolve', ids: [id] })]);
        expect([s1.status, s2.status].sort()).toEqual([200, 409]);
      }
      // An acknowledgement racing an automatic resolve: whichever wins, the ack is either recorded
      // (then resolved after it) or refused with 409 — never silently dropped.
      for (let i = 0; i < 3; i++) {
        clock.advance(6 * 60_000);
        await Promise.all([a.alerting.evaluateNow(), b.alerting.evaluateNow()]);
        const id = await fire('database');
        clock.advance(6 * 60_000);
        const [ack] = await Promise.all([api(a.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'carol' }), b.alerting.evaluateNow(), a.alerting.evaluateNow()]);
        await Promise.all([a.alerting.evaluateNow(), b.alerting.evaluateNow()]);
        const got = (await api(a.base, 'GET', `${A}/${id}`)).body;
        expect(got.alert.status).toBe('resolved');
        const acks = got.transitions.filter((t: { to: string }) => t.to === 'acknowledged');
        if (ack.status === 200) expect(acks).toHaveLength(1);
        else {
          expect(ack.status).toBe(409);
          expect(acks).toHaveLength(0);
        }
        expect(got.transitions.map((t: { to: string }) => t.to).at(-1)).toBe('resolved');
      }
      await closeReplica(a);
      await closeReplica(b);
    } finally {
      await schema.drop();
    }
  });

  it("a replica does not resolve what another replica still sees (KPIs are per process), until that view goes stale", async () => {
    const schema = await createSchema('vote');
    const clock = new Clock();
    try {
      const a = await replica(clock, schema.schema, 'v-a');
      const b = await replica(clock, schema.schema, 'v-b');
      const route = a.recorder.route('/chat');
      for (let i = 0; i < 10; i++) a.recorder.firstToken(route, 2.5);
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 0.1);
      await a.evaluate();
      await b.evaluate();
      await a.evaluate();
      const openFail = async () => (await api(b.base, 'GET', A)).body.alerts.filter((x: { ruleId: string }) => x.ruleId === 'kpi-timeToFirstToken-fail');
      expect(await openFail()).toHaveLength(1);
      await b.evaluate();
      expect(await openFail()).toHaveLength(1);
      // Replica A recovers: now nobody sees it, A resolves it.
      clock.advance(65_000);
      for (let i = 0; i < 10; i++) a.recorder.firstToken(route, 0.1);
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 0.1);
      await a.evaluate();
      expect(await openFail()).toHaveLength(0);

      // A fires again and leaves cleanly: its vote is withdrawn, B resolves at once.
      clock.advance(65_000);
      for (let i = 0; i < 10; i++) a.recorder.firstToken(route, 2.5);
      await a.evaluate();
      expect(await openFail()).toHaveLength(1);
      const fingerprint = String((await schema.query(`SELECT fingerprint FROM chatpulse_alerts WHERE status <> 'resolved' AND rule_id = 'kpi-timeToFirstToken-fail'`))[0]!.fingerprint);
      await closeReplica(a);
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 0.1);
      await b.evaluate();
      expect(await openFail()).toHaveLength(0);

      // A replica that crashed while seeing the condition: its vote holds until it is stale
      // (3 × the evaluation interval), then B resolves.
      clock.advance(65_000);
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 2.5);
      await b.evaluate();
      expect(await openFail()).toHaveLength(1);
      await schema.query(`INSERT INTO chatpulse_alert_observations (fingerprint, instance_id, active, observed_at) VALUES ($1, 'crashed', true, $2)`, [fingerprint, new Date(clock.t)]);
      clock.advance(65_000);
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 0.1);
      await b.evaluate();
      expect(await openFail()).toHaveLength(1);
      clock.advance(3 * 3_600_000); // 3 × the harness's 1 h interval
      for (let i = 0; i < 10; i++) b.recorder.firstToken(b.recorder.route('/chat'), 0.1);
      await b.evaluate();
      expect(await openFail()).toHaveLength(0);
      await closeReplica(b);
    } finally {
      await schema.drop();
    }
  });
});
