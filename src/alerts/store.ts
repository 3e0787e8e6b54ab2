import type { ErrorCountRow, LatencyRow } from './error-log';
import type { Rule } from './rules';
import type { Action, AlertRecord, AlertStatus, Category, NewAlert, Resolution, Severity, TransitionRecord } from './types';

/**
 * Where alert state lives: Postgres (durable, shared by replicas) or memory (one process, lost on
 * restart). Both implement the same guarantees within what they can see:
 *
 * - firing is idempotent per fingerprint: at most one open (firing or acknowledged) alert per
 *   fingerprint; a second fire only refreshes `lastSeenAt`/`value`;
 * - every transition is conditional on the current status (a lost race is a conflict, never an
 *   overwrite), all-or-nothing for a batch of ids;
 * - a notification is queued in the same transaction as the change that causes it, so only the
 *   replica that made the change notifies, and nothing is queued for a change that did not happen;
 * - a write given an idempotency key (`once`) is applied at most once per key: the key is recorded
 *   with the change, atomically, and a second write under it throws AlreadyAppliedError.
 */
export interface AlertStore {
  readonly kind: 'postgres' | 'memory';
  readonly durable: boolean;
  /** Runs migrations (idempotent, safe with replicas starting together). */
  init(): Promise<void>;
  close(): Promise<void>;

  /** Fires, or refreshes the open alert with the same fingerprint. `created` says which. */
  fire(alert: NewAlert, o: WriteOptions): Promise<{ alert: AlertRecord; created: boolean }>;
  /**
   * Resolves the open alert of a fingerprint, unless another replica's fresh observation (at or
   * after `vote.freshSince`) still sees the condition. Null when nothing was resolved.
   */
  resolveFingerprint(fingerprint: string, o: WriteOptions & { by: string; resolution: Resolution; note?: string; vote?: { freshSince: number } }): Promise<AlertRecord | null>;
  /** Acknowledges or resolves every id, or none. */
  transition(ids: readonly string[], action: Action, o: WriteOptions & { by: string; note: string | null }): Promise<TransitionOutcome>;

  get(id: string): Promise<{ alert: AlertRecord; transitions: TransitionRecord[] } | null>;
  list(q: AlertQuery): Promise<{ alerts: AlertRecord[]; total: number }>;
  /** Every open alert, newest first. */
  active(): Promise<AlertRecord[]>;
  /** Alerts by severity, category and status: open ones, and those fired since `sinceMs`. */
  alertCounts(sinceMs: number): Promise<{ open: AlertCounts; fired: AlertCounts }>;

  /** This replica's view of each condition, for the replicas' resolve vote. */
  observe(instanceId: string, observations: readonly { fingerprint: string; active: boolean }[], at: number): Promise<void>;
  /** Drops a replica's observations (it is shutting down cleanly and no longer votes). */
  withdraw(instanceId: string): Promise<void>;

  addErrorCounts(instanceId: string, errors: readonly ErrorCountRow[], latency: readonly LatencyRow[]): Promise<void>;
  /** Error counts since `sinceMs` summed over replicas, by bucket, category, level and source. */
  errorCounts(sinceMs: number): Promise<ErrorCountRow[]>;
  /** Responses and the slowest response per bucket since `sinceMs`, over replicas. */
  latency(sinceMs: number): Promise<LatencyRow[]>;

  claimNotifications(o: { instanceId: string; now: number; leaseMs: number; limit: number }): Promise<Notification[]>;
  notificationSent(id: string, at: number): Promise<void>;
  notificationRetry(id: string, nextAttemptAt: number, error: string): Promise<void>;
  notificationDead(id: string, error: string): Promise<void>;
  notificationCounts(): Promise<{ pending: number; sent: number; dead: number }>;
  /** Gives up (marks dead) pending notifications older than `olderThan` or beyond the newest `maxQueue`. */
  trimNotifications(olderThan: number, maxQueue: number): Promise<number>;

  ruleOverrides(): Promise<RuleOverride[]>;
  putRuleOverride(rule: Rule, by: string, at: number): Promise<void>;

  /** Deletes resolved alerts, sent/dead notifications, observations and counts older than `beforeMs`. */
  prune(beforeMs: number): Promise<void>;
}

export interface WriteOptions {
  readonly instanceId: string;
  /** Epoch ms of the change. */
  readonly at: number;
  /** Queue a webhook notification with the change (fire and resolve only). */
  readonly notify: boolean;
  /**
   * Idempotency key of a change the API accepted (spool.ts): recorded with the change in one
   * transaction; a write whose key is already recorded changes nothing and throws AlreadyAppliedError.
   */
  readonly once?: string;
}

export type TransitionOutcome =
  | { readonly ok: true; readonly alerts: AlertRecord[] }
  | { readonly ok: false; readonly notFound: string[]; readonly conflicts: { id: string; status: AlertStatus }[] };

export interface AlertQuery {
  readonly statuses: readonly AlertStatus[];
  readonly severities?: readonly Severity[];
  readonly categories?: readonly Category[];
  /** Alerts whose status last changed at or after this (epoch ms). */
  readonly sinceMs?: number;
  readonly limit: number;
  readonly offset: number;
}

export interface AlertCounts {
  readonly total: number;
  readonly bySeverity: Record<string, number>;
  readonly byCategory: Record<string, number>;
  readonly byStatus: Record<string, number>;
}

export interface Notification {
  readonly id: string;
  readonly alertId: string;
  readonly event: 'fired' | 'resolved';
  readonly alert: AlertRecord;
  readonly attempts: number;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface RuleOverride {
  readonly definition: unknown;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** The store could not be reached or failed: the API answers 503, evaluation logs and goes on (common/errors.ts). */
export { AlreadyAppliedError, StoreUnavailableError } from '../../common/errors';

export function emptyCounts(): AlertCounts {
  return { total: 0, bySeverity: { critical: 0, warning: 0, info: 0 }, byCategory: {}, byStatus: { firing: 0, acknowledged: 0, resolved: 0 } };
}

export function countInto(c: AlertCounts, a: { severity: string; category: string; status: string }, n = 1): AlertCounts {
  return {
    total: c.total + n,
    bySeverity: { ...c.bySeverity, [a.severity]: (c.bySeverity[a.severity] ?? 0) + n },
    byCategory: { ...c.byCategory, [a.category]: (c.byCategory[a.category] ?? 0) + n },
    byStatus: { ...c.byStatus, [a.status]: (c.byStatus[a.status] ?? 0) + n },
  };
}
