import type { Logger } from 'pino';
import { amTime, toNewAlert, type AlertmanagerPayload } from './alertmanager';
import { alertmanagerFingerprint } from './fingerprint';
import type { AlertStore } from './store';
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

  async receive(p: AlertmanagerPayload): Promise<ReceiveResult> {
    const { store, instanceId, notify } = this.o;
    const at = this.o.now();
    let fired = 0;
    let refreshed = 0;
    let resolved = 0;
    let ignored = 0;
    for (const a of p.alerts) {
      if (a.status === 'firing') {
        const r = await store.fire(toNewAlert(a, at), { instanceId, at, notify });
        if (r.created) fired++;
        else refreshed++;
        this.o.applied(r.alert, r.created ? 'fired' : undefined);
      } else {
        const fp = alertmanagerFingerprint(a.fingerprint, a.labels);
        const endsAt = amTime(a.endsAt);
        const r = await store.resolveFingerprint(fp, {
          instanceId,
          at: endsAt !== undefined && endsAt <= at ? endsAt : at,
          notify,
          by: `alertmanager${p.receiver ? `:${p.receiver}` : ''}`,
          resolution: 'alertmanager',
          note: 'resolved in Alertmanager',
        });
        if (r === null) ignored++;
        else {
          resolved++;
          this.o.applied(r, 'resolved');
        }
      }
    }
    this.o.logger.info({ receiver: p.receiver, groupKey: p.groupKey, fired, refreshed, resolved, ignored }, 'alerts: Alertmanager notification recorded');
    return { fired, refreshed, resolved, ignored };
  }
}
