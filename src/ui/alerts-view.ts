import type { ActiveAlertSummary, AlertEvent, AlertRecord } from '../alerts';

/** What the status page needs from alerting (src/alerts): the open alerts and their changes. */
export interface AlertsSource {
  activeAlerts(): readonly ActiveAlertSummary[];
  onChange(listener: (event: AlertEvent) => void): () => void;
}

/** One alert as the page shows it. */
export interface AlertView {
  readonly id: string;
  readonly severity: string;
  readonly category: string;
  readonly title: string;
  readonly status: string;
  readonly ruleId: string;
  readonly firedAt: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  /** auto (the condition cleared), manual, alertmanager, rule-disabled. */
  readonly resolution: string | null;
  readonly note: string | null;
}

const RESOLVED_KEPT = 10;

/** The fields an open-alert summary and a full record share. */
function summaryFields(a: ActiveAlertSummary) {
  return { id: a.id, severity: a.severity, category: a.category, title: a.title, status: a.status, ruleId: a.ruleId, firedAt: a.firedAt };
}

function fromRecord(a: AlertRecord): AlertView {
  return {
    ...summaryFields(a),
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: a.resolvedAt,
    resolvedBy: a.resolvedBy,
    resolution: a.resolution,
    note: a.note,
  };
}

/**
 * The page's view of alerting: the open alerts (from `activeAlerts()`, the source of truth),
 * enriched with who acknowledged them from the change events, and the last few resolved ones.
 * Bounded: details are kept for open alerts only, and at most 10 resolved alerts.
 */
export class AlertsView {
  private readonly details = new Map<string, AlertRecord>();
  private resolvedList: AlertView[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: AlertsSource,
    private readonly onUpdate: () => void = () => {},
  ) {
    this.unsubscribe = source.onChange((e) => this.changed(e));
  }

  private changed(e: AlertEvent): void {
    if (e.type === 'resolved' || e.alert.status === 'resolved') {
      this.details.delete(e.alert.id);
      this.resolvedList = [fromRecord(e.alert), ...this.resolvedList.filter((a) => a.id !== e.alert.id)].slice(0, RESOLVED_KEPT);
    } else {
      this.details.set(e.alert.id, e.alert);
    }
    this.onUpdate();
  }

  active(): AlertView[] {
    const open = this.source.activeAlerts();
    const ids = new Set(open.map((a) => a.id));
    for (const id of this.details.keys()) if (!ids.has(id)) this.details.delete(id);
    return open.map((a) => {
      const d = this.details.get(a.id);
      return {
        ...summaryFields(a),
        acknowledgedAt: d?.acknowledgedAt ?? null,
        acknowledgedBy: d?.acknowledgedBy ?? null,
        resolvedAt: null,
        resolvedBy: null,
        resolution: null,
        note: d?.note ?? null,
      };
    });
  }

  /** Resolved since this process started, newest first (at most 10). */
  resolved(): AlertView[] {
    return this.resolvedList;
  }

  close(): void {
    this.unsubscribe();
  }
}
