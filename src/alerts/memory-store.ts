import { randomUUID } from 'node:crypto';
import type { ErrorCountRow, LatencyRow } from './error-log';
import { ruleToInput, type Rule } from './rules';
import {
  AlreadyAppliedError,
  countInto,
  emptyCounts,
  type AlertCounts,
  type AlertQuery,
  type AlertStore,
  type Notification,
  type RuleOverride,
  type TransitionOutcome,
  type WriteOptions,
} from './store';
import { ALLOWED_FROM, type Action, type AlertRecord, type NewAlert, type Resolution, type TransitionRecord } from './types';

export interface MemoryStoreOptions {
  /** Resolved alerts kept at most (oldest dropped first). Default 5000. */
  readonly maxResolved?: number;
  /** Error/latency buckets kept at most. Default 8640 (24 h of 10 s buckets). */
  readonly maxBuckets?: number;
}

interface MemNotification {
  id: number;
  alertId: string;
  event: 'fired' | 'resolved';
  alert: AlertRecord;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  leaseUntil: number;
  lastError: string | null;
}

/**
 * State in this process only: lost on restart, invisible to other replicas. Same semantics as the
 * Postgres store otherwise (JavaScript runs each method's synchronous part atomically), with every
 * collection bounded.
 */
/** Idempotency keys remembered; a replay comes within minutes of the change, never this many later. */
const MAX_APPLIED_KEYS = 10_000;

export class MemoryStore implements AlertStore {
  readonly kind = 'memory' as const;
  readonly durable = false;
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly open = new Map<string, string>();
  private readonly transitions = new Map<string, TransitionRecord[]>();
  private readonly observations = new Map<string, Map<string, { active: boolean; at: number }>>();
  private readonly errorBuckets = new Map<string, ErrorCountRow>();
  private readonly latencyBuckets = new Map<number, LatencyRow>();
  private readonly notifications: MemNotification[] = [];
  private readonly overrides = new Map<string, RuleOverride>();
  private nextNotification = 1;
  /** Idempotency keys of applied changes (WriteOptions.once), oldest first; bounded. */
  private readonly applied = new Set<string>();
  private readonly maxResolved: number;
  private readonly maxBuckets: number;

  constructor(o: MemoryStoreOptions = {}) {
    this.maxResolved = o.maxResolved ?? 5000;
    this.maxBuckets = o.maxBuckets ?? 8640;
  }

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  private note(alertId: string, from: AlertRecord['status'] | null, to: AlertRecord['status'], o: WriteOptions & { by: string; note?: string | null }): void {
    const list = this.transitions.get(alertId) ?? [];
    list.push({ alertId, from, to, at: new Date(o.at).toISOString(), by: o.by, note: o.note ?? null, instanceId: o.instanceId });
    this.transitions.set(alertId, list);
  }

  private enqueue(alert: AlertRecord, event: 'fired' | 'resolved'): void {
    const now = Date.now();
    this.notifications.push({ id: this.nextNotification++, alertId: alert.id, event, alert, status: 'pending', attempts: 0, createdAt: now, nextAttemptAt: now, leaseUntil: 0, lastError: null });
  }

  private trimResolved(): void {
    const resolved = [...this.alerts.values()].filter((a) => a.status === 'resolved');
    if (resolved.length <= this.maxResolved) return;
    resolved.sort((a, b) => (a.resolvedAt ?? '').localeCompare(b.resolvedAt ?? ''));
    for (const a of resolved.slice(0, resolved.length - this.maxResolved)) this.drop(a.id);
  }

  private drop(id: string): void {
    this.alerts.delete(id);
    this.transitions.delete(id);
    for (let i = this.notifications.length - 1; i >= 0; i--) if (this.notifications[i]!.alertId === id) this.notifications.splice(i, 1);
  }

  /** Records a change's idempotency key; a key seen before refuses the change. */
  private claim(o: WriteOptions): void {
    if (o.once === undefined) return;
    if (this.applied.has(o.once)) throw new AlreadyAppliedError(o.once);
    this.applied.add(o.once);
    if (this.applied.size > MAX_APPLIED_KEYS) this.applied.delete(this.applied.values().next().value!);
  }

  async fire(a: NewAlert, o: WriteOptions): Promise<{ alert: AlertRecord; created: boolean }> {
    this.claim(o);
    const openId = this.open.get(a.fingerprint);
    if (openId !== undefined) {
      const prev = this.alerts.get(openId)!;
      const seen = new Date(Math.max(Date.parse(prev.lastSeenAt), o.at)).toISOString();
      const alert = { ...prev, lastSeenAt: seen, value: a.value, title: a.title, description: a.description };
      this.alerts.set(openId, alert);
      return { alert, created: false };
    }
    const at = new Date(a.firedAt).toISOString();
    const alert: AlertRecord = {
      id: randomUUID(),
      fingerprint: a.fingerprint,
      ruleId: a.ruleId,
      origin: a.origin,
      severity: a.severity,
      category: a.category,
      title: a.title,
      description: a.description,
      labels: a.labels,
      value: a.value,
      status: 'firing',
      firedAt: at,
      lastSeenAt: at,
      updatedAt: at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
      note: null,
      instanceId: o.instanceId,
    };
    this.alerts.set(alert.id, alert);
    this.open.set(a.fingerprint, alert.id);
    this.note(alert.id, null, 'firing', { ...o, by: a.origin === 'alertmanager' ? 'alertmanager' : `rule:${a.ruleId}` });
    if (o.notify) this.enqueue(alert, 'fired');
    return { alert, created: true };
  }

  async resolveFingerprint(fingerprint: string, o: WriteOptions & { by: string; resolution: Resolution; note?: string; vote?: { freshSince: number } }): Promise<AlertRecord | null> {
    this.claim(o);
    const id = this.open.get(fingerprint);
    if (id === undefined) return null;
    if (o.vote !== undefined) {
      for (const [instance, v] of this.observations.get(fingerprint) ?? []) {
        if (instance !== o.instanceId && v.active && v.at >= o.vote.freshSince) return null;
      }
    }
    const prev = this.alerts.get(id)!;
    const at = new Date(o.at).toISOString();
    const alert: AlertRecord = { ...prev, status: 'resolved', resolvedAt: at, resolvedBy: o.by, resolution: o.resolution, updatedAt: at, note: o.note ?? prev.note };
    this.alerts.set(id, alert);
    this.open.delete(fingerprint);
    this.note(id, prev.status, 'resolved', o);
    if (o.notify) this.enqueue(alert, 'resolved');
    this.trimResolved();
    return alert;
  }

  async transition(ids: readonly string[], action: Action, o: WriteOptions & { by: string; note: string | null }): Promise<TransitionOutcome> {
    this.claim(o);
    const notFound = ids.filter((id) => !this.alerts.has(id));
    const allowed = ALLOWED_FROM[action];
    const conflicts = ids
      .map((id) => this.alerts.get(id))
      .filter((a): a is AlertRecord => a !== undefined && !allowed.includes(a.status))
      .map((a) => ({ id: a.id, status: a.status }));
    if (notFound.length > 0 || conflicts.length > 0) return { ok: false, notFound, conflicts };
    const at = new Date(o.at).toISOString();
    const out: AlertRecord[] = [];
    for (const id of ids) {
      const prev = this.alerts.get(id)!;
      const next: AlertRecord =
        action === 'acknowledge'
          ? { ...prev, status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: o.by, updatedAt: at, note: o.note ?? prev.note }
          : { ...prev, status: 'resolved', resolvedAt: at, resolvedBy: o.by, resolution: 'manual', updatedAt: at, note: o.note ?? prev.note };
      this.alerts.set(id, next);
      if (next.status === 'resolved') this.open.delete(next.fingerprint);
      this.note(id, prev.status, next.status, o);
      if (o.notify && next.status === 'resolved') this.enqueue(next, 'resolved');
      out.push(next);
    }
    this.trimResolved();
    return { ok: true, alerts: out };
  }

  async get(id: string): Promise<{ alert: AlertRecord; transitions: TransitionRecord[] } | null> {
    const alert = this.alerts.get(id);
    return alert === undefined ? null : { alert, transitions: [...(this.transitions.get(id) ?? [])] };
  }

  async list(q: AlertQuery): Promise<{ alerts: AlertRecord[]; total: number }> {
    const matching = [...this.alerts.values()]
      .filter(
        (a) =>
          q.statuses.includes(a.status) &&
          (q.severities === undefined || q.severities.includes(a.severity)) &&
          (q.categories === undefined || q.categories.includes(a.category)) &&
          (q.sinceMs === undefined || Date.parse(a.updatedAt) >= q.sinceMs),
      )
      .sort((a, b) => Number(a.status === 'resolved') - Number(b.status === 'resolved') || b.firedAt.localeCompare(a.firedAt) || a.id.localeCompare(b.id));
    return { alerts: matching.slice(q.offset, q.offset + q.limit), total: matching.length };
  }

  async active(): Promise<AlertRecord[]> {
    return [...this.open.values()].map((id) => this.alerts.get(id)!).sort((a, b) => b.firedAt.localeCompare(a.firedAt) || a.id.localeCompare(b.id));
  }

  async alertCounts(sinceMs: number): Promise<{ open: AlertCounts; fired: AlertCounts }> {
    let open = emptyCounts();
    let fired = emptyCounts();
    for (const a of this.alerts.values()) {
      if (a.status !== 'resolved') open = countInto(open, a);
      if (Date.parse(a.firedAt) >= sinceMs) fired = countInto(fired, a);
    }
    return { open, fired };
  }

  async observe(instanceId: string, observations: readonly { fingerprint: string; active: boolean }[], at: number): Promise<void> {
    for (const o of observations) {
      let m = this.observations.get(o.fingerprint);
      if (m === undefined) this.observations.set(o.fingerprint, (m = new Map()));
      m.set(instanceId, { active: o.active, at });
    }
  }

  async withdraw(instanceId: string): Promise<void> {
    for (const m of this.observations.values()) m.delete(instanceId);
  }

  async addErrorCounts(_instanceId: string, errors: readonly ErrorCountRow[], latency: readonly LatencyRow[]): Promise<void> {
    for (const e of errors) {
      const key = `${e.bucket}\0${e.category}\0${e.level}\0${e.source}`;
      const prev = this.errorBuckets.get(key);
      this.errorBuckets.set(key, prev === undefined ? e : { ...e, count: prev.count + e.count });
    }
    for (const l of latency) {
      const prev = this.latencyBuckets.get(l.bucket);
      this.latencyBuckets.set(l.bucket, prev === undefined ? l : { bucket: l.bucket, responses: prev.responses + l.responses, maxSeconds: Math.max(prev.maxSeconds, l.maxSeconds) });
    }
    this.trimBuckets();
  }

  private trimBuckets(): void {
    const buckets = new Set<number>([...this.errorBuckets.values()].map((e) => e.bucket));
    if (buckets.size > this.maxBuckets) {
      const cutoff = [...buckets].sort((a, b) => b - a)[this.maxBuckets - 1]!;
      for (const [k, e] of this.errorBuckets) if (e.bucket < cutoff) this.errorBuckets.delete(k);
    }
    if (this.latencyBuckets.size > this.maxBuckets) {
      const cutoff = [...this.latencyBuckets.keys()].sort((a, b) => b - a)[this.maxBuckets - 1]!;
      for (const k of this.latencyBuckets.keys()) if (k < cutoff) this.latencyBuckets.delete(k);
    }
  }

  async errorCounts(sinceMs: number): Promise<ErrorCountRow[]> {
    return [...this.errorBuckets.values()].filter((e) => e.bucket >= sinceMs).sort((a, b) => a.bucket - b.bucket);
  }

  async latency(sinceMs: number): Promise<LatencyRow[]> {
    return [...this.latencyBuckets.values()].filter((l) => l.bucket >= sinceMs).sort((a, b) => a.bucket - b.bucket);
  }

  async claimNotifications(o: { instanceId: string; now: number; leaseMs: number; limit: number }): Promise<Notification[]> {
    const out: Notification[] = [];
    const blocked = new Set<string>();
    for (const n of this.notifications) {
      if (out.length >= o.limit) break;
      if (n.status !== 'pending') continue;
      // Per alert, in order: a later notification waits for the earlier one.
      if (blocked.has(n.alertId)) continue;
      blocked.add(n.alertId);
      if (n.nextAttemptAt > o.now || n.leaseUntil >= o.now) continue;
      n.leaseUntil = o.now + o.leaseMs;
      out.push({ id: String(n.id), alertId: n.alertId, event: n.event, alert: n.alert, attempts: n.attempts, createdAt: n.createdAt });
    }
    return out;
  }

  private find(id: string): MemNotification | undefined {
    return this.notifications.find((n) => n.id === Number(id));
  }

  async notificationSent(id: string): Promise<void> {
    const n = this.find(id);
    if (n === undefined) return;
    n.status = 'sent';
    n.attempts++;
    n.leaseUntil = 0;
    this.trimSent();
  }

  async notificationRetry(id: string, nextAttemptAt: number, error: string): Promise<void> {
    const n = this.find(id);
    if (n === undefined || n.status !== 'pending') return;
    n.attempts++;
    n.nextAttemptAt = nextAttemptAt;
    n.lastError = error;
    n.leaseUntil = 0;
  }

  async notificationDead(id: string, error: string): Promise<void> {
    const n = this.find(id);
    if (n === undefined) return;
    n.status = 'dead';
    n.attempts++;
    n.lastError = error;
    n.leaseUntil = 0;
    this.trimSent();
  }

  /** Keeps at most 1000 finished notifications. */
  private trimSent(): void {
    let finished = this.notifications.filter((n) => n.status !== 'pending').length;
    for (let i = 0; i < this.notifications.length && finished > 1000; ) {
      if (this.notifications[i]!.status !== 'pending') {
        this.notifications.splice(i, 1);
        finished--;
      } else i++;
    }
  }

  async notificationCounts(): Promise<{ pending: number; sent: number; dead: number }> {
    const out = { pending: 0, sent: 0, dead: 0 };
    for (const n of this.notifications) out[n.status]++;
    return out;
  }

  async trimNotifications(olderThan: number, maxQueue: number): Promise<number> {
    const pending = this.notifications.filter((n) => n.status === 'pending' && n.leaseUntil < Date.now());
    let trimmed = 0;
    pending.forEach((n, i) => {
      const tooOld = n.createdAt < olderThan;
      const overflow = i < pending.length - maxQueue;
      if (tooOld || overflow) {
        n.status = 'dead';
        n.lastError = `${n.lastError === null ? '' : `${n.lastError}; `}given up: ${tooOld ? 'too old' : 'queue full'}`;
        trimmed++;
      }
    });
    if (trimmed > 0) this.trimSent();
    return trimmed;
  }

  async ruleOverrides(): Promise<RuleOverride[]> {
    return [...this.overrides.values()];
  }

  async putRuleOverride(rule: Rule, by: string, at: number): Promise<void> {
    this.overrides.set(rule.id, { definition: ruleToInput(rule), updatedAt: new Date(at).toISOString(), updatedBy: by });
  }

  async prune(beforeMs: number): Promise<void> {
    for (const a of [...this.alerts.values()]) if (a.status === 'resolved' && Date.parse(a.resolvedAt ?? a.updatedAt) < beforeMs) this.drop(a.id);
    for (const [k, e] of this.errorBuckets) if (e.bucket < beforeMs) this.errorBuckets.delete(k);
    for (const k of this.latencyBuckets.keys()) if (k < beforeMs) this.latencyBuckets.delete(k);
    for (const [fp, m] of this.observations) {
      for (const [i, v] of m) if (v.at < beforeMs) m.delete(i);
      if (m.size === 0) this.observations.delete(fp);
    }
  }
}
