import type { Logger } from 'pino';
import { readUnlessOvertaken } from './fresh-read';
import type { AlertQuery, AlertStore } from './store';
import type { ActiveAlertSummary, AlertEvent, AlertRecord } from './types';

/**
 * This replica's live view of the open alerts (what the dashboard, the status page and
 * `activeAlerts()` read without touching the store), and the change events its listeners get.
 * Changes this replica makes are applied at once; other replicas' changes arrive with the next
 * refresh from the store.
 */
export class AlertCache {
  private cache = new Map<string, AlertRecord>();
  private readonly listeners = new Set<(e: AlertEvent) => void>();
  /** Bumped by every change this replica applies (see refresh). */
  private appliedVersion = 0;

  constructor(
    private readonly logger: Logger,
    /** Called after a change of this replica's own (the notifier has something to send). */
    private readonly onOwnChange: () => void,
  ) {}

  /** A change this replica made: update the view, tell listeners. `type` undefined: a refresh, not a change of state. */
  applied(a: AlertRecord, type: AlertEvent['type'] | undefined): void {
    this.appliedVersion++;
    const prev = this.cache.get(a.id);
    if (a.status === 'resolved') this.cache.delete(a.id);
    else this.cache.set(a.id, a);
    if (type !== undefined) {
      this.emit({ type, alert: a });
      this.onOwnChange();
    } else if (prev === undefined && a.status !== 'resolved') {
      // Fired by another replica (or Alertmanager refreshing one): new to this replica's live view.
      this.emit({ type: a.status === 'acknowledged' ? 'acknowledged' : 'fired', alert: a });
    } else if (prev !== undefined && prev.status !== a.status) {
      this.emit({ type: a.status === 'resolved' ? 'resolved' : 'acknowledged', alert: a });
    }
  }

  /**
   * Replaces the view with the store's open alerts, unless this replica applied a change of its own
   * while the read was in flight (an Alertmanager alert received during an evaluation would vanish
   * from the dashboard until the next one; see fresh-read.ts).
   */
  async refresh(store: AlertStore): Promise<void> {
    const open = await readUnlessOvertaken(() => this.appliedVersion, () => store.active());
    if (open !== undefined) this.replace(open);
  }

  /** Replaces the view, telling listeners about other replicas' changes. */
  private replace(open: readonly AlertRecord[]): void {
    const next = new Map(open.map((a) => [a.id, a]));
    for (const [id, prev] of this.cache) {
      if (!next.has(id)) this.emit({ type: 'resolved', alert: { ...prev, status: 'resolved' } });
    }
    for (const [id, a] of next) {
      const prev = this.cache.get(id);
      if (prev === undefined) this.emit({ type: a.status === 'acknowledged' ? 'acknowledged' : 'fired', alert: a });
      else if (prev.status !== a.status) this.emit({ type: 'acknowledged', alert: a });
    }
    this.cache = next;
  }

  private emit(e: AlertEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'alerts: an onChange listener threw');
      }
    }
  }

  onChange(listener: (event: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** One open alert as last seen, if open. */
  get(id: string): AlertRecord | undefined {
    return this.cache.get(id);
  }

  /**
   * The alerts API's list answered from the live view (the store did not answer in time): open
   * alerts only, filtered, ordered and paged as the store does.
   */
  query(q: AlertQuery): { alerts: AlertRecord[]; total: number } {
    const all = [...this.cache.values()]
      .filter((a) => q.statuses.includes(a.status))
      .filter((a) => q.severities === undefined || q.severities.includes(a.severity))
      .filter((a) => q.categories === undefined || q.categories.includes(a.category))
      .filter((a) => q.sinceMs === undefined || Date.parse(a.updatedAt) >= q.sinceMs)
      .sort((a, b) => b.firedAt.localeCompare(a.firedAt) || a.id.localeCompare(b.id));
    return { alerts: all.slice(q.offset, q.offset + q.limit), total: all.length };
  }

  /** Open alerts, newest first. */
  active(): readonly ActiveAlertSummary[] {
    return [...this.cache.values()]
      .sort((a, b) => b.firedAt.localeCompare(a.firedAt))
      .map((a) => ({ id: a.id, severity: a.severity, category: a.category, title: a.title, status: a.status, firedAt: a.firedAt, ruleId: a.ruleId }));
  }
}
