import { duration as durationParser, httpUrl, int as intParser, SettingsReader } from '../../common/config';
import { MIN_ALERT_INTERVAL_MS } from '../config/health-config';
import { ChatpulseConfigError } from '../../common/errors';
import { resolveRules, type EffectiveRule } from './rules';

/** Webhook delivery settings (`alerts.webhook` in the config file). */
export interface WebhookSettings {
  /** CHATPULSE_ALERT_WEBHOOK_URL wins over the file's `url`. */
  readonly url: string | undefined;
  /** One delivery attempt's deadline. Default 5 s. */
  readonly timeoutMs: number;
  /** At most `limit` deliveries per `windowMs` from this replica; the rest wait their turn. Default 20/min. */
  readonly rateLimit: { readonly limit: number; readonly windowMs: number };
  /** First retry delay; doubles each attempt (full jitter) up to `maxRetryDelayMs`. Default 1 s. */
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** A notification not delivered within this long is given up (kept as `dead`). Default 24 h. */
  readonly maxAgeMs: number;
  /** Pending notifications kept at most; past it the oldest are given up. Default 1000. */
  readonly maxQueue: number;
  /** How often the delivery loop looks for due notifications. Default 1 s. */
  readonly pollIntervalMs: number;
}

/** The validated `alerts` section. */
export interface AlertsSettings {
  readonly rules: readonly EffectiveRule[];
  readonly evaluationIntervalMs: number | undefined;
  readonly webhook: WebhookSettings;
  /** Resolved alerts, their transitions, sent notifications and error counts older than this are pruned. Default 30 d. */
  readonly retentionMs: number;
  /** Whether alerts received from Alertmanager also go to the webhook (Alertmanager notifies on its own). Default false. */
  readonly notifyAlertmanager: boolean;
  /** How long an alerts API request waits for the store before answering from memory. Default 500 ms. */
  readonly apiTimeoutMs: number;
  /** Changes accepted while the store is down: kept in memory, and in `dir` when set. */
  readonly spool: { readonly dir: string | undefined; readonly maxEntries: number };
}

export const API_TIMEOUT_DEFAULT_MS = 500;
export const SPOOL_DEFAULT_MAX = 1000;

export const WEBHOOK_DEFAULTS: Omit<WebhookSettings, 'url'> = Object.freeze({
  timeoutMs: 5000,
  rateLimit: Object.freeze({ limit: 20, windowMs: 60_000 }),
  retryDelayMs: 1000,
  maxRetryDelayMs: 300_000,
  maxAgeMs: 86_400_000,
  maxQueue: 1000,
  pollIntervalMs: 1000,
});

const KNOWN = ['evaluationInterval', 'defaults', 'rules', 'webhook', 'retention', 'notifyAlertmanager', 'apiTimeout', 'spool'];
const SPOOL_KNOWN = ['dir', 'maxEntries'];
const WEBHOOK_KNOWN = ['url', 'timeout', 'rateLimit', 'retryDelay', 'maxRetryDelay', 'maxAge', 'maxQueue', 'pollInterval'];

/** Validates the config file's `alerts` section (raw from HealthConfig.alertsInput). Throws ChatpulseConfigError. */
export function parseAlertsSection(input: unknown): AlertsSettings {
  // Every problem of the section is collected, then thrown together (each naming its field).
  const reader = new SettingsReader('all');
  const err = (field: string, message: string) => reader.problems.push({ field: `alerts.${field}`, message });
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
    throw ChatpulseConfigError.of('alerts', 'expected a mapping with rules, evaluationInterval, webhook, …');
  }
  const a = (input ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!KNOWN.includes(k)) err(k, `unknown field (known: ${KNOWN.join(', ')})`);
  const duration = (field: string, v: unknown, min: number, fallback: number): number =>
    v === undefined ? fallback : reader.value(`alerts.${field}`, v, durationParser(min), fallback);
  const int = (field: string, v: unknown, min: number, max: number, fallback: number): number =>
    v === undefined ? fallback : reader.value(`alerts.${field}`, v, (raw) => (typeof raw === 'number' ? intParser(min, max)(raw) : { ok: false, reason: `expected an integer from ${min} to ${max}` }), fallback);
  const evaluationIntervalMs = a.evaluationInterval === undefined ? undefined : duration('evaluationInterval', a.evaluationInterval, MIN_ALERT_INTERVAL_MS, 30_000);
  const defaults = a.defaults ?? true;
  if (typeof defaults !== 'boolean') err('defaults', 'expected true or false');
  const notifyAlertmanager = a.notifyAlertmanager ?? false;
  if (typeof notifyAlertmanager !== 'boolean') err('notifyAlertmanager', 'expected true or false');
  const retentionMs = duration('retention', a.retention, 3_600_000, 30 * 86_400_000);
  const apiTimeoutMs = duration('apiTimeout', a.apiTimeout, 10, API_TIMEOUT_DEFAULT_MS);
  const sp = (a.spool ?? {}) as Record<string, unknown>;
  let spool: AlertsSettings['spool'] = { dir: undefined, maxEntries: SPOOL_DEFAULT_MAX };
  if (typeof sp !== 'object' || sp === null || Array.isArray(sp)) err('spool', 'expected a mapping with dir, maxEntries');
  else {
    for (const k of Object.keys(sp)) if (!SPOOL_KNOWN.includes(k)) err(`spool.${k}`, `unknown field (known: ${SPOOL_KNOWN.join(', ')})`);
    if (sp.dir !== undefined && (typeof sp.dir !== 'string' || sp.dir.trim() === '')) err('spool.dir', 'expected a directory path');
    spool = { dir: typeof sp.dir === 'string' && sp.dir.trim() !== '' ? sp.dir : undefined, maxEntries: int('spool.maxEntries', sp.maxEntries, 1, 1_000_000, SPOOL_DEFAULT_MAX) };
  }

  const w = (a.webhook ?? {}) as Record<string, unknown>;
  if (typeof w !== 'object' || w === null || Array.isArray(w)) err('webhook', 'expected a mapping');
  else for (const k of Object.keys(w)) if (!WEBHOOK_KNOWN.includes(k)) err(`webhook.${k}`, `unknown field (known: ${WEBHOOK_KNOWN.join(', ')})`);
  let url: string | undefined;
  if (w.url !== undefined) {
    const u = reader.value('alerts.webhook.url', String(w.url), httpUrl, undefined);
    url = u === undefined ? undefined : new URL(u).toString();
  }
  let rateLimit = WEBHOOK_DEFAULTS.rateLimit;
  if (w.rateLimit !== undefined) {
    const r = w.rateLimit as Record<string, unknown> | null;
    if (r === null || typeof r !== 'object') err('webhook.rateLimit', 'expected { limit, window }');
    else rateLimit = { limit: int('webhook.rateLimit.limit', r.limit, 1, 10_000, 20), windowMs: duration('webhook.rateLimit.window', r.window, 1000, 60_000) };
  }
  const webhook: WebhookSettings = {
    url,
    timeoutMs: duration('webhook.timeout', w.timeout, 10, WEBHOOK_DEFAULTS.timeoutMs),
    rateLimit,
    retryDelayMs: duration('webhook.retryDelay', w.retryDelay, 1, WEBHOOK_DEFAULTS.retryDelayMs),
    maxRetryDelayMs: duration('webhook.maxRetryDelay', w.maxRetryDelay, 1, WEBHOOK_DEFAULTS.maxRetryDelayMs),
    maxAgeMs: duration('webhook.maxAge', w.maxAge, 1000, WEBHOOK_DEFAULTS.maxAgeMs),
    maxQueue: int('webhook.maxQueue', w.maxQueue, 1, 1_000_000, WEBHOOK_DEFAULTS.maxQueue),
    pollIntervalMs: duration('webhook.pollInterval', w.pollInterval, 10, WEBHOOK_DEFAULTS.pollIntervalMs),
  };

  let rules: EffectiveRule[] = [];
  try {
    rules = resolveRules(a.rules, defaults !== false);
  } catch (e) {
    if (e instanceof ChatpulseConfigError) reader.problems.push(...e.problems);
    else throw e;
  }
  reader.done();
  return { rules, evaluationIntervalMs, webhook, retentionMs, notifyAlertmanager: notifyAlertmanager === true, apiTimeoutMs, spool };
}
