import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, Clock, createSchema, freePort, harness, Receiver, waitFor, type Harness } from './helpers';

/**
 * The Slack-compatible webhook against a real local HTTP receiver: down, slow, failing, refusing,
 * recovering; retries with back-off, ordering, the rate limit, and evaluation never waiting on it.
 */

const A = '/api/v1/health/alerts';
const FAST = { timeoutMs: 2000, retryDelayMs: 20, maxRetryDelayMs: 80, pollIntervalMs: 20, rateLimit: { limit: 1000, windowMs: 1000 } };

let db: Awaited<ReturnType<typeof createSchema>>;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  db = await createSchema('webhook');
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await db?.drop();
});

interface Setup {
  h: Harness;
  receiver: Receiver;
  clock: Clock;
  schema: Awaited<ReturnType<typeof createSchema>>;
  notifications: () => Promise<{ event: string; status: string; attempts: number; last_error: string | null; alert_id: string }[]>;
}

async function setup(name: string, webhook: Partial<typeof FAST> = {}, receiverUp = true): Promise<Setup> {
  const schema = await createSchema(name);
  const receiver = new Receiver();
  const port = await freePort();
  if (receiverUp) await receiver.listen(port);
  receiver.port = port;
  const clock = new Clock();
  const h = await harness({ clock, schema: schema.schema, alerting: { webhookUrl: receiver.url, webhook: { ...FAST, ...webhook }, instanceId: `wh-${name}` } });
  cleanups.push(async () => {
    await h.close();
    await receiver.close();
    await schema.drop();
  });
  return {
    h,
    receiver,
    clock,
    schema,
    notifications: async () => (await schema.query(`SELECT event, status, attempts, last_error, alert_id::text FROM chatpulse_alert_notifications ORDER BY id`)) as never,
  };
}

async function fire(h: Harness, category: string): Promise<string> {
  h.alerting.trackError({ category, level: 'critical', message: `${category} broke` } as never);
  await h.alerting.evaluateNow();
  return (await api(h.base, 'GET', `${A}?category=${category}`)).body.alerts[0].id;
}

describe('webhook delivery', () => {
  it('posts a Slack-compatible message on fire and on resolve', async () => {
    const { h, receiver, clock } = await setup('ok');
    const id = await fire(h, 'llm');
    await waitFor(() => receiver.received.length === 1, 5000, 'the fired message');
    const fired = receiver.received[0]!;
    expect(fired.event).toBe('fired');
    expect(fired.body.text).toMatch(/^:rotating_light: \*\[FIRING\] CRITICAL\* \(llm\) Critical error: 1 critical llm error in the last 5m/);
    expect(fired.body.text).toContain('llm broke');
    expect(fired.body.chatpulse).toMatchObject({ version: 1, event: 'fired', alert: { id, status: 'firing', severity: 'critical', category: 'llm' } });
    expect((await api(h.base, 'POST', A, { action: 'acknowledge', ids: [id], by: 'erin' })).status).toBe(200);
    clock.advance(6 * 60_000);
    await h.alerting.evaluateNow();
    await waitFor(() => receiver.received.length === 2, 5000, 'the resolved message');
    expect(receiver.received[1]!.body.text).toMatch(/^:white_check_mark: \*\[RESOLVED\] CRITICAL\*.*\nResolved automatically \(condition cleared\)/);
    // Acknowledging does not notify: fire and resolve only.
    expect(receiver.received.map((r) => r.event)).toEqual(['fired', 'resolved']);
    await waitFor(() => h.alerting.status().webhook?.sent === 2, 5000, 'two deliveries counted');
    expect(h.alerting.status().webhook).toMatchObject({ sent: 2, dead: 0 });
  });

  it('receiver down: retries with back-off, loses nothing, delivers in order once it recovers', async () => {
    const { h, receiver, clock, notifications } = await setup('down', {}, false);
    const id = await fire(h, 'tts');
    clock.advance(6 * 60_000);
    await h.alerting.evaluateNow(); // resolved while the receiver is still down
    await waitFor(async () => ((await notifications())[0]?.attempts ?? 0) >= 3, 5000, 'three failed attempts');
    const pending = await notifications();
    expect(pending.map((n) => [n.event, n.status])).toEqual([['fired', 'pending'], ['resolved', 'pending']]);
    expect(pending[0]!.last_error).toMatch(/ECONNREFUSED/);
    // The resolve waits behind the fire: never attempted while the fire is undelivered.
    expect(pending[1]!.attempts).toBe(0);
    const logged = h.lines.filter((l) => l.msg === 'alerts: webhook delivery failed; will retry');
    expect(logged.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(logged)).not.toContain('/hooks/slack'); // the URL path is the secret
    await receiver.listen(receiver.port);
    await waitFor(() => receiver.received.length === 2, 5000, 'both messages after recovery');
    expect(receiver.received.map((r) => [r.event, r.body.chatpulse.alert.id])).toEqual([['fired', id], ['resolved', id]]);
    await waitFor(async () => (await notifications()).every((n) => n.status === 'sent'), 5000, 'both marked sent');
  });

  it('receiver slow past the timeout: evaluation does not wait; delivered once it answers in time', async () => {
    const { h, receiver, notifications } = await setup('slow', { timeoutMs: 250 });
    receiver.delayMs = 1500;
    await fire(h, 'network');
    await waitFor(async () => ((await notifications())[0]?.attempts ?? 0) >= 2, 5000, 'two timed-out attempts');
    expect((await notifications())[0]!.last_error).toMatch(/timed out after 250 ms/);
    const started = performance.now();
    for (const c of ['database', 'integration', 'validation']) await fire(h, c);
    expect(performance.now() - started).toBeLessThan(1500);
    receiver.delayMs = 0;
    await waitFor(async () => (await notifications()).every((n) => n.status === 'sent'), 8000, 'everything delivered');
    // At least once: a late answer to a timed-out attempt may also have been received.
    const ids = new Set(receiver.received.map((r) => r.id));
    expect(ids.size).toBe(4);
  });

  it('retries 5xx and 429, gives up at once on other 4xx', async () => {
    const { h, receiver, notifications } = await setup('codes');
    receiver.status = 503;
    await fire(h, 'llm');
    await waitFor(async () => ((await notifications())[0]?.attempts ?? 0) >= 2, 5000, 'retries on 503');
    expect((await notifications())[0]).toMatchObject({ status: 'pending', last_error: 'HTTP 503' });
    receiver.status = 200;
    await waitFor(async () => (await notifications())[0]?.status === 'sent', 5000, 'sent after recovery');
    receiver.status = 404;
    await fire(h, 'tts');
    await waitFor(async () => (await notifications())[1]?.status === 'dead', 5000, 'given up on 404');
    expect((await notifications())[1]).toMatchObject({ attempts: 1, last_error: 'HTTP 404' });
    expect(h.lines.some((l) => /given up \(receiver refused it\)/.test(String(l.msg)))).toBe(true);
  });

  it('rate limits deliveries; the rest wait their turn and all arrive', async () => {
    const windowMs = 600;
    const { h, receiver } = await setup('rate', { rateLimit: { limit: 2, windowMs } });
    for (const c of ['llm', 'tts', 'network', 'database', 'integration']) {
      h.alerting.trackError({ category: c, level: 'critical', message: c } as never);
    }
    await h.alerting.evaluateNow();
    await waitFor(() => receiver.received.length === 5, 8000, 'all five');
    // At most 2 per window: the 3rd starts a window after the 1st, the 5th a window after the 3rd.
    const at = receiver.received.map((r) => r.at);
    expect(at[2]! - at[0]!).toBeGreaterThanOrEqual(windowMs - 100);
    expect(at[4]! - at[2]!).toBeGreaterThanOrEqual(windowMs - 100);
  });

  it('stop() delivers what is due before ending, within its bound', async () => {
    const { h, receiver } = await setup('stop', { rateLimit: { limit: 1000, windowMs: 1000 }, pollIntervalMs: 10_000 });
    receiver.delayMs = 100; // in flight when stop() is called
    h.alerting.trackError({ category: 'llm', level: 'critical', message: 'x' });
    await h.alerting.evaluateNow();
    const started = performance.now();
    await h.alerting.stop();
    expect(performance.now() - started).toBeLessThan(6000);
    expect(receiver.received).toHaveLength(1);
  });
});
