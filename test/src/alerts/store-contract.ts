/**
 * The AlertStore contract (src/alerts/store.ts), as cases any store must pass. The same cases run
 * on the memory store and on the Postgres store (store.contract.test.ts), so the two cannot drift.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { defaultRules } from '../../../src/alerts/rules';
import { AlreadyAppliedError, type AlertStore, type WriteOptions } from '../../../src/alerts/store';
import type { NewAlert } from '../../../src/alerts/types';

export interface StoreFactory {
  /** A fresh, initialised, empty store. */
  create(): Promise<AlertStore>;
  /** Releases what create() took (schema, connections). */
  dispose(store: AlertStore): Promise<void>;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');

function alert(fingerprint: string, over: Partial<NewAlert> = {}): NewAlert {
  return {
    fingerprint,
    ruleId: 'high-error-rate',
    origin: 'rule',
    severity: 'warning',
    category: 'system',
    title: `title ${fingerprint}`,
    description: 'more than 10 errors in 5 minutes',
    labels: { service: 'bot' },
    value: 11,
    firedAt: T0,
    ...over,
  };
}

const w = (at: number, notify = false, instanceId = 'replica-a'): WriteOptions => ({ instanceId, at, notify });

export function alertStoreContract(factory: StoreFactory): void {
  let store: AlertStore;
  beforeEach(async () => {
    store = await factory.create();
  });
  afterEach(async () => {
    await factory.dispose(store);
  });

  it('fires once per fingerprint; a second fire only refreshes lastSeenAt and value', async () => {
    const first = await store.fire(alert('fp-1'), w(T0));
    expect(first.created).toBe(true);
    expect(first.alert).toMatchObject({ fingerprint: 'fp-1', status: 'firing', value: 11, firedAt: new Date(T0).toISOString(), instanceId: 'replica-a' });
    const again = await store.fire(alert('fp-1', { value: 15 }), w(T0 + 5000));
    expect(again.created).toBe(false);
    expect(again.alert.id).toBe(first.alert.id);
    expect(again.alert.value).toBe(15);
    expect(again.alert.lastSeenAt).toBe(new Date(T0 + 5000).toISOString());
    expect(again.alert.firedAt).toBe(first.alert.firedAt);
    expect((await store.active()).map((a) => a.id)).toEqual([first.alert.id]);
  });

  it('applies a write with an idempotency key once: a replay under the same key changes nothing', async () => {
    const fired = await store.fire(alert('fp-once'), { ...w(T0), once: 'k-fire' });
    await expect(store.fire(alert('fp-once', { value: 99 }), { ...w(T0 + 1000), once: 'k-fire' })).rejects.toBeInstanceOf(AlreadyAppliedError);
    expect((await store.get(fired.alert.id))!.alert.value).toBe(11);
    const ack = { ...w(T0 + 2000), by: 'oncall', note: null, once: 'k-ack' };
    expect((await store.transition([fired.alert.id], 'acknowledge', ack)).ok).toBe(true);
    await expect(store.transition([fired.alert.id], 'acknowledge', ack)).rejects.toBeInstanceOf(AlreadyAppliedError);
    const res = { ...w(T0 + 3000), by: 'am', resolution: 'alertmanager' as const, once: 'k-res' };
    expect(await store.resolveFingerprint('fp-once', res)).not.toBeNull();
    await store.fire(alert('fp-once'), w(T0 + 4000));
    // The replayed resolve must not resolve the alert fired since.
    await expect(store.resolveFingerprint('fp-once', res)).rejects.toBeInstanceOf(AlreadyAppliedError);
    expect((await store.active()).map((a) => a.fingerprint)).toEqual(['fp-once']);
    expect((await store.get(fired.alert.id))!.transitions.map((t) => t.to)).toEqual(['firing', 'acknowledged', 'resolved']);
  });

  it('acknowledge then resolve, each from the statuses it allows; history kept in order', async () => {
    const { alert: a } = await store.fire(alert('fp-2'), w(T0));
    const ack = await store.transition([a.id], 'acknowledge', { ...w(T0 + 1000), by: 'ana', note: 'looking' });
    expect(ack.ok).toBe(true);
    if (ack.ok) expect(ack.alerts[0]).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ana', note: 'looking' });
    const twice = await store.transition([a.id], 'acknowledge', { ...w(T0 + 2000), by: 'bo', note: null });
    expect(twice).toEqual({ ok: false, notFound: [], conflicts: [{ id: a.id, status: 'acknowledged' }] });
    const res = await store.transition([a.id], 'resolve', { ...w(T0 + 3000), by: 'ana', note: 'fixed' });
    expect(res.ok).toBe(true);
    if (res.ok) expect(res.alerts[0]).toMatchObject({ status: 'resolved', resolvedBy: 'ana', resolution: 'manual' });
    const found = await store.get(a.id);
    expect(found!.transitions.map((t) => [t.from, t.to, t.by])).toEqual([
      [null, 'firing', expect.any(String)],
      ['firing', 'acknowledged', 'ana'],
      ['acknowledged', 'resolved', 'ana'],
    ]);
    expect(await store.active()).toEqual([]);
  });

  it('a batch transition is all or nothing: an unknown id changes nothing', async () => {
    const { alert: a } = await store.fire(alert('fp-3'), w(T0));
    const unknown = randomUUID();
    const r = await store.transition([a.id, unknown], 'acknowledge', { ...w(T0 + 1000), by: 'ana', note: null });
    expect(r).toEqual({ ok: false, notFound: [unknown], conflicts: [] });
    expect((await store.get(a.id))!.alert.status).toBe('firing');
    expect(await store.get(randomUUID())).toBeNull();
  });

  it('after a resolve, the same fingerprint fires a new alert', async () => {
    const { alert: a } = await store.fire(alert('fp-4'), w(T0));
    const resolved = await store.resolveFingerprint('fp-4', { ...w(T0 + 1000), by: 'evaluator', resolution: 'auto' });
    expect(resolved).toMatchObject({ id: a.id, status: 'resolved', resolution: 'auto' });
    expect(await store.resolveFingerprint('fp-4', { ...w(T0 + 2000), by: 'evaluator', resolution: 'auto' })).toBeNull();
    const b = await store.fire(alert('fp-4'), w(T0 + 3000));
    expect(b.created).toBe(true);
    expect(b.alert.id).not.toBe(a.id);
  });

  it("another replica's fresh observation of the condition holds a resolve; a stale one does not", async () => {
    await store.fire(alert('fp-5'), w(T0));
    await store.observe('replica-b', [{ fingerprint: 'fp-5', active: true }], T0 + 1000);
    const held = await store.resolveFingerprint('fp-5', { ...w(T0 + 2000), by: 'evaluator', resolution: 'auto', vote: { freshSince: T0 + 500 } });
    expect(held).toBeNull();
    const done = await store.resolveFingerprint('fp-5', { ...w(T0 + 9000), by: 'evaluator', resolution: 'auto', vote: { freshSince: T0 + 5000 } });
    expect(done?.status).toBe('resolved');
  });

  it('a withdrawn replica no longer votes', async () => {
    await store.fire(alert('fp-6'), w(T0));
    await store.observe('replica-b', [{ fingerprint: 'fp-6', active: true }], T0 + 1000);
    await store.withdraw('replica-b');
    const done = await store.resolveFingerprint('fp-6', { ...w(T0 + 2000), by: 'evaluator', resolution: 'auto', vote: { freshSince: T0 + 500 } });
    expect(done?.status).toBe('resolved');
  });

  it('lists by status, severity and category, newest first, with a total for paging', async () => {
    await store.fire(alert('fp-a', { severity: 'critical', category: 'database', firedAt: T0 }), w(T0));
    await store.fire(alert('fp-b', { severity: 'warning', firedAt: T0 + 1000 }), w(T0 + 1000));
    const { alert: c } = await store.fire(alert('fp-c', { severity: 'warning', firedAt: T0 + 2000 }), w(T0 + 2000));
    await store.transition([c.id], 'resolve', { ...w(T0 + 3000), by: 'ana', note: null });
    const open = await store.list({ statuses: ['firing', 'acknowledged'], limit: 10, offset: 0 });
    expect(open.total).toBe(2);
    expect(open.alerts.map((a) => a.fingerprint)).toEqual(['fp-b', 'fp-a']);
    const critical = await store.list({ statuses: ['firing'], severities: ['critical'], limit: 10, offset: 0 });
    expect(critical.alerts.map((a) => a.fingerprint)).toEqual(['fp-a']);
    const db = await store.list({ statuses: ['firing', 'acknowledged', 'resolved'], categories: ['database'], limit: 10, offset: 0 });
    expect(db.alerts.map((a) => a.fingerprint)).toEqual(['fp-a']);
    const page = await store.list({ statuses: ['firing', 'acknowledged', 'resolved'], limit: 1, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.alerts).toHaveLength(1);
  });

  it('counts open alerts and alerts fired since a time', async () => {
    await store.fire(alert('fp-x', { severity: 'critical', category: 'llm' }), w(T0));
    const { alert: y } = await store.fire(alert('fp-y', { firedAt: T0 + 10_000 }), w(T0 + 10_000));
    await store.transition([y.id], 'acknowledge', { ...w(T0 + 11_000), by: 'ana', note: null });
    const { open, fired } = await store.alertCounts(T0 + 5000);
    expect(open).toMatchObject({ total: 2, bySeverity: { critical: 1, warning: 1 }, byStatus: { firing: 1, acknowledged: 1 } });
    expect(open.byCategory).toMatchObject({ llm: 1, system: 1 });
    expect(fired.total).toBe(1);
  });

  // Notifications are timed by the wall clock (webhook retries use real time), whatever `at` says.
  it('queues a notification with the change that causes it, and only then', async () => {
    const claim = (instanceId: string, inMs: number) => store.claimNotifications({ instanceId, now: Date.now() + inMs, leaseMs: 30_000, limit: 10 });
    await store.fire(alert('fp-n'), w(T0, false));
    expect(await claim('replica-a', 1000)).toEqual([]);
    const { alert: a } = await store.fire(alert('fp-m'), w(T0, true));
    await store.fire(alert('fp-m'), w(T0 + 100, true)); // a refresh is not a change
    const claimed = await claim('replica-a', 1000);
    expect(claimed.map((n) => [n.alertId, n.event, n.attempts])).toEqual([[a.id, 'fired', 0]]);
    expect(claimed[0]!.alert.id).toBe(a.id);
    // Leased: another replica does not get it meanwhile.
    expect(await claim('replica-b', 2000)).toEqual([]);
    await store.notificationSent(claimed[0]!.id, Date.now());
    await store.resolveFingerprint('fp-m', { ...w(T0 + 4000, true), by: 'evaluator', resolution: 'auto' });
    const resolved = await claim('replica-a', 1000);
    expect(resolved.map((n) => n.event)).toEqual(['resolved']);
    await store.notificationDead(resolved[0]!.id, 'HTTP 404');
    expect(await store.notificationCounts()).toEqual({ pending: 0, sent: 1, dead: 1 });
  });

  it('a retried notification comes back when due, with its attempts counted', async () => {
    await store.fire(alert('fp-r'), w(T0, true));
    const start = Date.now();
    const [n] = await store.claimNotifications({ instanceId: 'replica-a', now: start + 1000, leaseMs: 30_000, limit: 10 });
    await store.notificationRetry(n!.id, start + 60_000, 'HTTP 503');
    expect(await store.claimNotifications({ instanceId: 'replica-a', now: start + 59_000, leaseMs: 30_000, limit: 10 })).toEqual([]);
    const [again] = await store.claimNotifications({ instanceId: 'replica-a', now: start + 60_000, leaseMs: 30_000, limit: 10 });
    expect(again!.id).toBe(n!.id);
    expect(again!.attempts).toBe(1);
    expect(await store.notificationCounts()).toEqual({ pending: 1, sent: 0, dead: 0 });
  });

  it('sums error counts over replicas by bucket, category, level and source', async () => {
    const row = { bucket: T0, category: 'llm' as const, level: 'error' as const, source: 'metric' as const, count: 2 };
    await store.addErrorCounts('replica-a', [row], [{ bucket: T0, responses: 10, maxSeconds: 1.5 }]);
    await store.addErrorCounts('replica-b', [{ ...row, count: 3 }], [{ bucket: T0, responses: 5, maxSeconds: 2.5 }]);
    await store.addErrorCounts('replica-a', [{ ...row, count: 1 }], []);
    expect(await store.errorCounts(T0)).toEqual([{ ...row, count: 6 }]);
    expect(await store.errorCounts(T0 + 60_000)).toEqual([]);
    expect(await store.latency(T0)).toEqual([{ bucket: T0, responses: 15, maxSeconds: 2.5 }]);
  });

  it('keeps rule overrides, the latest per rule', async () => {
    const rule = defaultRules()[0]!;
    await store.putRuleOverride(rule, 'ana', T0);
    await store.putRuleOverride({ ...rule, name: 'renamed' } as typeof rule, 'bo', T0 + 1000);
    const rows = await store.ruleOverrides();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ updatedBy: 'bo', updatedAt: new Date(T0 + 1000).toISOString() });
    expect((rows[0]!.definition as { name: string }).name).toBe('renamed');
  });

  it('prunes resolved alerts older than the cut, never open ones', async () => {
    const { alert: old } = await store.fire(alert('fp-old'), w(T0));
    await store.transition([old.id], 'resolve', { ...w(T0 + 1000), by: 'ana', note: null });
    const { alert: open } = await store.fire(alert('fp-open'), w(T0));
    await store.prune(T0 + 10_000);
    expect(await store.get(old.id)).toBeNull();
    expect((await store.get(open.id))!.alert.status).toBe('firing');
  });
}
