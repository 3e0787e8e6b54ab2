import type { Logger } from 'pino';
import type { WebhookSettings } from './config';
import type { AlertStore, Notification } from './store';
import { settleWithin } from '../../common/timeout';

/**
 * Delivers queued notifications to a Slack-compatible webhook, off the evaluation path.
 *
 * The queue is the store's outbox: a notification is written in the same transaction as the fire
 * or resolve that causes it, so with Postgres it survives restarts and a receiver that is down.
 * Each replica's loop leases due notifications (a lease, not a delete: a replica that dies
 * mid-delivery leaves it to be retried once the lease lapses), posts them, and marks them sent,
 * retries them later, or gives them up:
 *
 * - 2xx: sent. 408, 425, 429, 5xx, timeouts and network errors: retried with exponential back-off
 *   (`retryDelay` doubling up to `maxRetryDelay`, equal jitter, at least any Retry-After) until
 *   `maxAge`; other 4xx (a revoked or wrong URL): given up at once and logged.
 * - Per alert, notifications go out in order (a resolve waits for its fire).
 * - At most `rateLimit.limit` deliveries per `rateLimit.window` per replica; the rest wait.
 * - The queue is bounded (`maxQueue`): past it the oldest pending are given up, and logged.
 *
 * Delivery is at least once: a receiver that answers after the timeout may see a retry; the
 * `X-Chatpulse-Notification-Id` header lets it de-duplicate.
 */
export interface NotifierOptions {
  readonly store: AlertStore;
  readonly url: string;
  readonly settings: WebhookSettings;
  readonly logger: Logger;
  readonly instanceId: string;
  /** Real time for delivery scheduling (not the rule clock). */
  readonly clock?: () => number;
  readonly random?: () => number;
}

const CONCURRENCY = 4;

export class Notifier {
  private readonly o: NotifierOptions;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly target: string;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private deadline = Infinity;
  private readonly sentAt: number[] = [];
  private readonly inFlight = new Set<AbortController>();
  private polls = 0;
  /** Counters for tests and the status page. */
  readonly stats = { sent: 0, failedAttempts: 0, dead: 0, trimmed: 0 };

  constructor(o: NotifierOptions) {
    this.o = o;
    this.clock = o.clock ?? Date.now;
    this.random = o.random ?? Math.random;
    // The path of a Slack webhook URL is its secret: logs name the origin only.
    this.target = new URL(o.url).origin;
  }

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => {
      if (++this.polls % 30 === 1) void this.trim();
      this.kick();
    }, this.o.settings.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due notifications now (after a fire or resolve queued one). */
  kick(): void {
    if (this.stopped && this.deadline === Infinity) return;
    if (this.draining !== undefined) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Waits until the current delivery round is done (tests, stop). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async trim(): Promise<void> {
    try {
      const n = await this.o.store.trimNotifications(this.clock() - this.o.settings.maxAgeMs, this.o.settings.maxQueue);
      if (n > 0) {
        this.stats.trimmed += n;
        this.o.logger.error({ given_up: n, maxQueue: this.o.settings.maxQueue }, 'alerts: webhook notifications given up (too old or queue full)');
      }
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'alerts: could not trim the webhook queue');
    }
  }

  private budget(now: number): number {
    const { limit, windowMs } = this.o.settings.rateLimit;
    while (this.sentAt.length > 0 && this.sentAt[0]! <= now - windowMs) this.sentAt.shift();
    return limit - this.sentAt.length;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const now = this.clock();
      if (now >= this.deadline) return;
      const budget = this.budget(now);
      if (budget <= 0) return;
      let batch: Notification[];
      try {
        batch = await this.o.store.claimNotifications({
          instanceId: this.o.instanceId,
          now,
          leaseMs: this.o.settings.timeoutMs * 2 + 5000,
          limit: Math.min(budget, CONCURRENCY),
        });
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'alerts: could not read the webhook queue');
        return;
      }
      if (batch.length === 0) return;
      await Promise.all(batch.map((n) => this.deliver(n)));
    }
  }

  private async deliver(n: Notification): Promise<void> {
    this.sentAt.push(this.clock());
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.o.settings.timeoutMs} ms`)), this.o.settings.timeoutMs);
    let outcome: { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number };
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'chatpulse-alerts',
          'x-chatpulse-notification-id': n.id,
          'x-chatpulse-event': n.event,
        },
        body: JSON.stringify(webhookBody(n, this.o.instanceId)),
        signal: controller.signal,
      });
      // Read the body so the connection is reused, but never wait on it past the deadline.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) outcome = { ok: true };
      else {
        const retry = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
        const ra = Number(res.headers.get('retry-after'));
        outcome = { ok: false, retry, error: `HTTP ${res.status}`, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterMs: ra * 1000 } : {}) };
      }
    } catch (err) {
      const reason = controller.signal.aborted ? (controller.signal.reason as Error)?.message ?? 'aborted' : causeMessage(err);
      outcome = { ok: false, retry: true, error: reason };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
    const now = this.clock();
    try {
      if (outcome.ok) {
        await this.o.store.notificationSent(n.id, now);
        this.stats.sent++;
        this.o.logger.info({ notification: n.id, event: n.event, alert: n.alertId, target: this.target }, 'alerts: webhook delivered');
        return;
      }
      this.stats.failedAttempts++;
      const tooOld = now - n.createdAt >= this.o.settings.maxAgeMs;
      if (!outcome.retry || tooOld) {
        await this.o.store.notificationDead(n.id, outcome.error);
        this.stats.dead++;
        this.o.logger.error(
          { notification: n.id, event: n.event, alert: n.alertId, target: this.target, error: outcome.error, attempts: n.attempts + 1 },
          `alerts: webhook notification given up (${outcome.retry ? 'older than maxAge' : 'receiver refused it'})`,
        );
        return;
      }
      const exp = Math.min(this.o.settings.maxRetryDelayMs, this.o.settings.retryDelayMs * 2 ** Math.min(n.attempts, 30));
      const delay = Math.max(exp / 2 + (this.random() * exp) / 2, outcome.retryAfterMs ?? 0);
      await this.o.store.notificationRetry(n.id, now + delay, outcome.error);
      this.o.logger.warn(
        { notification: n.id, event: n.event, alert: n.alertId, target: this.target, error: outcome.error, attempts: n.attempts + 1, retryInMs: Math.round(delay) },
        'alerts: webhook delivery failed; will retry',
      );
    } catch (err) {
      // The lease lapses and another round (or replica) retries it.
      this.o.logger.warn({ err: (err as Error).message, notification: n.id }, 'alerts: could not record a webhook delivery outcome');
    }
  }

  /**
   * Stops polling, then keeps delivering what is due until the queue is empty or `boundMs` has
   * passed; deliveries still in flight then are aborted (and, with Postgres, retried after the
   * next start).
   */
  async stop(boundMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.deadline = this.clock() + boundMs;
    const flush = (async () => {
      await this.idle();
      await this.drain();
    })();
    await settleWithin(flush, boundMs);
    this.deadline = -Infinity;
    for (const c of this.inFlight) c.abort(new Error('shutting down'));
    await settleWithin(flush, 1000);
  }
}

/**
 * Slack's control characters: `&`, `<` and `>` (so a note or an error message cannot ping
 * `<!channel>` or forge a link). Slack shows the escaped text as typed.
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function causeMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** The webhook body: Slack's `text` (ignored fields are fine for Slack), plus the alert as JSON for other receivers. */
export function webhookBody(n: Pick<Notification, 'event' | 'alert' | 'id'>, instanceId: string): Record<string, unknown> {
  const a = n.alert;
  const resolved = n.event === 'resolved';
  const icon = resolved ? ':white_check_mark:' : a.severity === 'critical' ? ':rotating_light:' : a.severity === 'warning' ? ':warning:' : ':information_source:';
  const lines = [`${icon} *[${resolved ? 'RESOLVED' : 'FIRING'}] ${a.severity.toUpperCase()}* (${a.category}) ${slackEscape(a.title)}`];
  if (resolved) lines.push(`Resolved ${a.resolution === 'auto' ? 'automatically (condition cleared)' : `by ${slackEscape(a.resolvedBy ?? 'unknown')}`} at ${a.resolvedAt ?? ''}${a.note ? ` — ${slackEscape(a.note)}` : ''}`);
  else if (a.description !== '') lines.push(slackEscape(a.description.split('\n').slice(0, 4).join('\n')));
  lines.push(`Alert ${a.id} · rule ${slackEscape(a.ruleId)} · fired ${a.firedAt}`);
  return {
    text: lines.join('\n'),
    chatpulse: { version: 1, event: n.event, notificationId: n.id, instance: instanceId, alert: a },
  };
}
