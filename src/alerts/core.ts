import type { HealthConfig } from '../config/health-config';
import type { AlertmanagerPayload } from './alertmanager';
import type { ErrorSample } from './error-log';
import type { EffectiveRule } from './rules';
import type { AlertCounts, AlertQuery } from './store';
import type { Action, AlertRecord, AlertStatus, TransitionRecord } from './types';

/** What the HTTP layer needs from the alerting core (src/alerts/alerting.ts builds it). */
export interface AlertsCore {
  readonly config: HealthConfig;
  now(): number;
  storeInfo(): { kind: 'postgres' | 'memory'; durable: boolean; ready: boolean; error?: string };
  /** `stale`: the store did not answer in time; open alerts from this replica's live view. */
  list(q: AlertQuery): Promise<{ alerts: AlertRecord[]; total: number; stale?: Stale }>;
  get(id: string): Promise<{ alert: AlertRecord; transitions: TransitionRecord[]; stale?: Stale } | null>;
  /** `queued`: the store could not take it now; kept in the spool and applied when it returns. */
  transition(ids: string[], action: Action, by: string, note: string | null): Promise<TransitionResult | Queued>;
  rules(): { rules: EffectiveRule[]; evaluationIntervalMs: number };
  putRule(id: string, body: unknown, by: string): Promise<PutRuleResult>;
  stats(sinceMs: number, intervalMs: number): Promise<StatsResult>;
  recentErrors(limit: number): ErrorSample[];
  receiveAlertmanager(payload: AlertmanagerPayload): Promise<{ fired: number; refreshed: number; resolved: number; ignored: number } | Queued>;
  /** Bucket width of error counts: the smallest stats interval. */
  readonly bucketMs: number;
}

/** An answer from memory: why, and what it covers. */
export interface Stale {
  readonly reason: string;
  /** What the live view holds: open alerts only, as this replica last saw them. */
  readonly covers: 'open alerts';
}

/** A change accepted into the spool. */
export interface Queued {
  readonly queued: { readonly key: string; readonly position: number; readonly durable: boolean; readonly reason: string };
}

export type TransitionResult =
  | { ok: true; alerts: AlertRecord[] }
  | { ok: false; notFound: string[]; conflicts: { id: string; status: AlertStatus }[] };

export type PutRuleResult =
  | { status: 200; rule: EffectiveRule; file: { path: string; written: boolean; error?: string } | null }
  | { status: 400 | 404; error: string; errors?: string[] };

export interface StatsResult {
  readonly alerts: { open: AlertCounts; fired: AlertCounts };
  readonly errors: {
    total: number;
    byCategory: Record<string, number>;
    byLevel: Record<string, number>;
    bySource: Record<string, number>;
    trend: { start: string; total: number; byLevel: Record<string, number>; byCategory: Record<string, number> }[];
  };
  readonly notifications: { pending: number; sent: number; dead: number } | null;
}
