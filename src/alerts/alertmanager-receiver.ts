import type { Logger } from 'pino';
import { amTime, toNewAlert, type AlertmanagerPayload } from './alertmanager';
import { alertmanagerFingerprint } from './fingerprint';
import { AlreadyAppliedError, type AlertStore } from './store';
import type { AlertEvent, AlertRecord } from './types';

export interface AlertmanagerReceiverOptions {
  readonly store: AlertStore;
  readonly instanceId: string;
  readonly now: () => number;
  /** Whether received alerts also go to the webhook (`alerts.notifyAlertmanager` and a webhook URL). */
  readonly notify: boolean;
  /** A change applied: the replica's live view and listeners (AlertCache.applied). */
  readonly applied: (a: AlertRecord, type: AlertEvent['type'] | undefined) => void;
  readonly logger: Logger;
}

export interface ReceiveResult {
  readonly fired: number;
  readonly refreshed: number;
  readonly resolved: number;
  readonly ignored: number;
}

/**
 * Alertmanager's webhook intake: a firing alert fires (or refreshes) one Chatpulse alert keyed by
 * its fingerprint; a resolved one resolves it, at Alertmanager's end time when that is earlier.
 */
export class AlertmanagerReceiver {
  constructor(private readonly o: AlertmanagerReceiverOptions) {}

  /**
   * `once`: the idempotency key of a payload the API accepted (each alert of it is keyed
   * `once:i`, so a replay applies only those not yet applied); `at`: when it was accepted.
   */
  async receive(p: AlertmanagerPayload, o: { at?: number; once?: string } = {}): Promise<ReceiveResult> {
    const { store, instanceId, notify } = this.o;
    const at = o.at ?? this.o.now();
    let fired = 0;
    let refreshed = 0;
    let resolved = 0;
    let ignored = 0;
    for (const [i, a] of p.alerts.entries()) {
      const once = o.once === undefined ? {} : { once: `${o.once}:${i}` };
      try {
        await this.receiveOne(a, p, at, once, (kind, r) => {
          if (kind === 'fired') fired++;
          else if (kind === 'refreshed') refreshed++;
          else if (kind === 'resolved') resolved++;
          else ignored++;
        });
      } catch (err) {
        if (!(err instanceof AlreadyAppliedError)) throw err;
      }
    }
    this.o.logger.info({ receiver: p.receiver, groupKey: p.groupKey, fired, refreshed, resolved, ignored, ...(o.once !== undefined ? { spooled: o.once } : {}) }, 'alerts: Alertmanager notification recorded');
    return { fired, refreshed, resolved, ignored };
  }

  private async receiveOne(a: AlertmanagerPayload['alerts'][number], p: AlertmanagerPayload, at: number, once: { once?: string }, count: (kind: 'fired' | 'refreshed' | 'resolved' | 'ignored', r?: unknown) => void): Promise<void> {
    const { store, instanceId, notify } = this.o;
    {
      if (a.status === 'firing') {
        const r = await store.fire(toNewAlert(a, at), { instanceId, at, notify, ...once });
        count(r.created ? 'fired' : 'refreshed');
        this.o.applied(r.alert, r.created ? 'fired' : undefined);
      } else {
        const fp = alertmanagerFingerprint(a.fingerprint, a.labels);
        const endsAt = amTime(a.endsAt);
        const r = await store.resolveFingerprint(fp, {
          instanceId,
          at: endsAt !== undefined && endsAt <= at ? endsAt : at,
          notify,
          ...once,
          by: `alertmanager${p.receiver ? `:${p.receiver}` : ''}`,
          resolution: 'alertmanager',
          note: 'resolved in Alertmanager',
        });
        if (r === null) count('ignored');
        else {
          count('resolved');
          this.o.applied(r, 'resolved');
        }
      }
    }
  }
}
