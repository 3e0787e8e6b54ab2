/**
 * The vocabulary of the alerts module: error categories and levels, alert severities and
 * statuses, and the alert record every store, the API and the webhook share.
 */

/** The generic categories plus the chatbot's own (`llm`, `tts`, `network`, `validation`). */
export const CATEGORIES = Object.freeze([
  'system',
  'database',
  'authentication',
  'integration',
  'llm',
  'tts',
  'network',
  'validation',
] as const);
export type Category = (typeof CATEGORIES)[number];

/** Error levels, least to most severe. */
export const LEVELS = Object.freeze(['warning', 'error', 'critical'] as const);
export type Level = (typeof LEVELS)[number];

/**
 * Where a tracked error came from: `metric` (a `chatbot.errors` increment), `stream` (a failed or
 * aborted stream), `http` (a 401/403 answer: an authentication failure), `dependency` (a dependency
 * check turning warn/fail) and `manual` (`trackError`).
 */
export const SOURCES = Object.freeze(['metric', 'stream', 'http', 'dependency', 'manual'] as const);
export type Source = (typeof SOURCES)[number];

export const SEVERITIES = Object.freeze(['critical', 'warning', 'info'] as const);
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = Object.freeze(['firing', 'acknowledged', 'resolved'] as const);
export type AlertStatus = (typeof STATUSES)[number];

export type AlertOrigin = 'rule' | 'alertmanager';

/** How an alert was resolved. */
export type Resolution = 'auto' | 'manual' | 'alertmanager' | 'rule-disabled';

export type Action = 'acknowledge' | 'resolve';
export const ACTIONS: readonly Action[] = Object.freeze(['acknowledge', 'resolve']);

/** The statuses an action may start from; anything else is a 409. */
export const ALLOWED_FROM: Readonly<Record<Action, readonly AlertStatus[]>> = Object.freeze({
  acknowledge: Object.freeze(['firing'] as AlertStatus[]),
  resolve: Object.freeze(['firing', 'acknowledged'] as AlertStatus[]),
});

/** What defines an alert, whoever raised it: the evaluator, Alertmanager, or the store's record. */
export interface AlertContent {
  /** Stable hash of the rule id and its grouping labels; Alertmanager alerts keep their own. */
  readonly fingerprint: string;
  readonly ruleId: string;
  readonly origin: AlertOrigin;
  readonly severity: Severity;
  readonly category: Category;
  readonly title: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The value that breached (an error count, seconds, a KPI value), when there is one. */
  readonly value: number | null;
}

/** One alert, open or resolved (history is kept). Timestamps are ISO 8601. */
export interface AlertRecord extends AlertContent {
  readonly id: string;
  readonly status: AlertStatus;
  readonly firedAt: string;
  /** Last evaluation (or Alertmanager notification) that still saw the condition. */
  readonly lastSeenAt: string;
  /** Last status change. */
  readonly updatedAt: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolution: Resolution | null;
  /** The note of the last transition that had one. */
  readonly note: string | null;
  /** The replica that fired it. */
  readonly instanceId: string;
}

/** One status change, kept for history. */
export interface TransitionRecord {
  readonly alertId: string;
  readonly from: AlertStatus | null;
  readonly to: AlertStatus;
  readonly at: string;
  readonly by: string;
  readonly note: string | null;
  readonly instanceId: string;
}

/** What the evaluator or the Alertmanager receiver wants to fire. */
export interface NewAlert extends AlertContent {
  /** Epoch ms. */
  readonly firedAt: number;
}

export type AlertEventType = 'fired' | 'acknowledged' | 'resolved';
export interface AlertEvent {
  readonly type: AlertEventType;
  readonly alert: AlertRecord;
}

/** What `activeAlerts()` hands the dashboard. */
export interface ActiveAlertSummary {
  readonly id: string;
  readonly severity: Severity;
  readonly category: Category;
  readonly title: string;
  readonly status: AlertStatus;
  readonly firedAt: string;
  readonly ruleId: string;
}

export function isCategory(v: unknown): v is Category {
  return typeof v === 'string' && (CATEGORIES as readonly string[]).includes(v);
}
export function isLevel(v: unknown): v is Level {
  return typeof v === 'string' && (LEVELS as readonly string[]).includes(v);
}
export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}
export function isStatus(v: unknown): v is AlertStatus {
  return typeof v === 'string' && (STATUSES as readonly string[]).includes(v);
}
