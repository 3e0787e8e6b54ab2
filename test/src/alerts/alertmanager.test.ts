import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MemoryStore } from '../../../src/alerts/memory-store';
import { api, Clock, createSchema, harness, holdCall, Receiver, waitFor, type Harness, type HeldCall } from './helpers';

/** Alertmanager's webhook (payload version 4) recorded in the same store, firing and resolved. */

const A = '/api/v1/health/alerts';
const AM = `${A}/alertmanager`;
const clock = new Clock();
let h: Harness;
let db: Awaited<ReturnType<typeof createSchema>>;
const receiver = new Receiver();

function payload(status: 'firing' | 'resolved', alerts: Record<string, unknown>[]) {
  return {
    version: '4',
    groupKey: '{}/{alertname=~".+"}:{alertname="ChatbotTimeToFirstTokenHigh", service_name="chatbot"}',
    truncatedAlerts: 0,
    status,
    receiver: 'chatpulse-health',
    groupLabels: { alertname: 'ChatbotTimeToFirstTokenHigh' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
  };
}

const ttft = (status: 'firing' | 'resolved', endsAt = '0001-01-01T00:00:00Z') => ({
  status,
  labels: { alertname: 'ChatbotTimeToFirstTokenHigh', severity: 'critical', service_name: 'chatbot' },
  annotations: {
    summary: 'Time to first token p95 on chatbot is above 2s',
    description: 'p95 time to first token over the last 5 minutes is 2.7s (critical > 2s, target <= 500ms).',
    runbook_url: 'alerts/runbooks/ChatbotTimeToFirstTokenHigh.md',
  },
  startsAt: '2025-01-23T09:55:00Z',
  endsAt,
  generatorURL: 'http://prometheus:9090/graph?g0.expr=…',
  fingerprint: 'a1b2c3d4e5f60718',
});

const kb = (status: 'firing' | 'resolved') => ({
  status,
  labels: { alertname: 'ChatbotKbCacheHitRateLow', severity: 'warning', service_name: 'chatbot' },
  annotations: { summary: 'KB cache hit rate on chatbot is below 40%' },
  startsAt: '2025-01-23T09:50:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: '0f0e0d0c0b0a0908',
});

beforeAll(async () => {
  db = await createSchema('am');
  await receiver.listen();
  h = await harness({ clock, schema: db.schema, alerting: { webhookUrl: receiver.url, webhook: { pollIntervalMs: 20 } } });
});

afterAll(async () => {
  await h?.close();
  await receiver.close();
  await db?.drop();
});

describe('Alertmanager receiver', () => {
  it('is the path alerts/alertmanager.yml sends to', () => {
    const file = path.resolve(__dirname, '../../../alerts/alertmanager.yml');
    const config = parseYaml(readFileSync(file, 'utf8')) as { receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[] };
    const hook = config.receivers.find((r) => r.name === 'chatpulse-health')!.webhook_configs![0]!;
    expect(new URL(hook.url).pathname).toBe(AM);
    expect(hook.send_resolved).toBe(true);
  });

  it('records firing alerts with their severity, category, summary and fingerprint', async () => {
    const r = await api(h.base, 'POST', AM, payload('firing', [ttft('firing'), kb('firing')]));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ received: 2, fired: 2, refreshed: 0, resolved: 0, ignored: 0 });
    const list = (await api(h.base, 'GET', A)).body.alerts as Record<string, any>[];
    const t = list.find((a) => a.ruleId === 'alertmanager:ChatbotTimeToFirstTokenHigh')!;
    expect(t).toMatchObject({
      origin: 'alertmanager',
      fingerprint: 'am:a1b2c3d4e5f60718',
      severity: 'critical',
      category: 'llm',
      status: 'firing',
      title: 'Time to first token p95 on chatbot is above 2s',
      firedAt: '2025-01-23T09:55:00.000Z',
      labels: { alertname: 'ChatbotTimeToFirstTokenHigh', severity: 'critical', service_name: 'chatbot' },
    });
    expect(t.description).toMatch(/Runbook: alerts\/runbooks\/ChatbotTimeToFirstTokenHigh.md/);
    expect(list.find((a) => a.ruleId === 'alertmanager:ChatbotKbCacheHitRateLow')).toMatchObject({ severity: 'warning', category: 'integration' });
    // The dashboard's cache of active alerts follows the store; give it a moment (bounded).
    await waitFor(() => h.alerting.activeAlerts().filter((a) => a.ruleId.startsWith('alertmanager:')).length === 2 || undefined, 2000, 'both in the active-alert cache');
  });

  it('de-duplicates repeats, survives rule evaluation, and can be acknowledged like any alert', async () => {
    const r = await api(h.base, 'POST', AM, payload('firing', [ttft('firing'), kb('firing')]));
    expect(r.body).toMatchObject({ fired: 0, refreshed: 2 });
    await h.evaluate();
    clock.advance(30 * 60_000);
    await h.evaluate();
    const list = (await api(h.base, 'GET', A)).body.alerts as { id: string; ruleId: string }[];
    expect(list).toHaveLength(2);
    const id = list.find((a) => a.ruleId === 'alertmanager:ChatbotTimeToFirstTokenHigh')!.id;
    expect((await api(h.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'frank' })).status).toBe(200);
  });

  it('resolves them when Alertmanager says resolved (acknowledged or not), at endsAt', async () => {
    const r = await api(h.base, 'POST', AM, payload('resolved', [ttft('resolved', '2025-01-23T10:20:00Z'), kb('resolved')]));
    expect(r.body).toMatchObject({ received: 2, resolved: 2, ignored: 0 });
    expect((await api(h.base, 'GET', A)).body.alerts).toHaveLength(0);
    const all = (await api(h.base, 'GET', `${A}?status=resolved`)).body.alerts as Record<string, any>[];
    const t = all.find((a) => a.ruleId === 'alertmanager:ChatbotTimeToFirstTokenHigh')!;
    expect(t).toMatchObject({ status: 'resolved', resolution: 'alertmanager', resolvedBy: 'alertmanager:chatpulse-health', resolvedAt: '2025-01-23T10:20:00.000Z', acknowledgedBy: 'frank' });
    const hist = (await api(h.base, 'GET', `${A}/${t.id}`)).body.transitions.map((x: { to: string }) => x.to);
    expect(hist).toEqual(['firing', 'acknowledged', 'resolved']);
    // A repeat of the resolved notification changes nothing.
    expect((await api(h.base, 'POST', AM, payload('resolved', [ttft('resolved')]))).body).toMatchObject({ resolved: 0, ignored: 1 });
    // Alertmanager routes to its own receivers: these are not sent to our webhook by default.
    await h.alerting.flushNotifications();
    expect(receiver.received).toHaveLength(0);
  });

  it('a second firing episode of the same alert is a new alert', async () => {
    await api(h.base, 'POST', AM, payload('firing', [{ ...ttft('firing'), startsAt: '2025-01-23T11:00:00Z' }]));
    const all = (await api(h.base, 'GET', `${A}?status=all`)).body.alerts.filter((a: { ruleId: string }) => a.ruleId === 'alertmanager:ChatbotTimeToFirstTokenHigh');
    expect(all.map((a: { status: string }) => a.status)).toEqual(['firing', 'resolved']);
    await api(h.base, 'POST', AM, payload('resolved', [ttft('resolved')]));
  });

  it('rejects malformed payloads with 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...payload('firing', [ttft('firing')]), version: '3' }, /version: expected "4"/],
      [{ ...payload('firing', []), alerts: undefined }, /alerts: expected a list/],
      [payload('firing', [{ ...ttft('firing'), labels: { severity: 'critical' } }]), /alerts\[0\]\.labels\.alertname: expected a string/],
      [payload('firing', [ttft('firing'), { ...kb('firing'), status: 'pending' }]), /alerts\[1\]\.status: expected "firing" or "resolved"/],
      [payload('firing', [{ ...ttft('firing'), labels: { alertname: 'X', n: 5 } }]), /alerts\[0\]\.labels\.n: expected a string/],
      [payload('firing', [{ ...ttft('firing'), startsAt: 'yesterday' }]), /alerts\[0\]\.startsAt/],
      [{ ...payload('firing', []), status: 'weird' }, /^invalid Alertmanager payload: status/],
      ['[1]', /body: expected an Alertmanager webhook payload/],
    ];
    for (const [body, re] of cases) {
      const r = await api(h.base, 'POST', AM, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error).toMatch(re);
    }
    const bad = await api(h.base, 'POST', AM, '{"version": "4",');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/malformed JSON/);
    expect((await api(h.base, 'POST', AM, payload('firing', [ttft('firing')]), { authorization: '' })).status).toBe(401);
  });

  it('the same notification delivered to two replicas at once records one alert', async () => {
    const other = await harness({ clock, schema: db.schema, alerting: { instanceId: 'am-2' } });
    try {
      const p = payload('firing', [{ ...kb('firing'), fingerprint: 'ffff000011112222' }]);
      const rs = await Promise.all([api(h.base, 'POST', AM, p), api(other.base, 'POST', AM, p), api(h.base, 'POST', AM, p)]);
      expect(rs.map((r) => r.body.fired).reduce((a, b) => a + b, 0)).toBe(1);
      expect(await db.query(`SELECT count(*)::int AS n FROM chatpulse_alerts WHERE fingerprint = 'am:ffff000011112222'`)).toEqual([{ n: 1 }]);
      await waitFor(() => other.alerting.activeAlerts().some((a) => a.ruleId === 'alertmanager:ChatbotKbCacheHitRateLow') || undefined, 2000, 'the alert in the other replica');
    } finally {
      await other.close();
    }
  });

  it('an alert received while an evaluation reads the store stays in the active-alert cache', async () => {
    const m = await harness({ clock: new Clock(), databaseUrl: false });
    let held: HeldCall | undefined;
    try {
      await m.evaluate();
      // The evaluation reads the open alerts twice: for its rules, then to refresh the cache. Hold
      // the second read's answer, taken before the Alertmanager alert arrives, until after it did.
      held = holdCall(MemoryStore.prototype, 'active', 1);
      const evaluation = m.alerting.evaluateNow();
      await waitFor(() => held!.calls() === 2 || undefined, 2000, 'the cache refresh read held');
      const r = await api(m.base, 'POST', AM, payload('firing', [ttft('firing')]));
      expect(r.body).toMatchObject({ fired: 1 });
      held.release();
      await evaluation;
      expect(m.alerting.activeAlerts().map((a) => a.ruleId)).toEqual(['alertmanager:ChatbotTimeToFirstTokenHigh']);
    } finally {
      held?.restore();
      await m.close();
    }
  });
});
