import { alertmanagerFingerprint } from './fingerprint';
import { isCategory, type Category, type NewAlert, type Severity } from './types';

/**
 * Alertmanager's webhook payload (version 4), as sent by a `webhook_configs` receiver:
 * `{ version: "4", status, receiver, groupKey, alerts: [{ status, labels, annotations, startsAt,
 * endsAt, fingerprint, generatorURL }] , … }`.
 */
export interface AlertmanagerAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string | undefined;
  readonly endsAt: string | undefined;
  readonly fingerprint: string | undefined;
  readonly generatorURL: string | undefined;
}

export interface AlertmanagerPayload {
  readonly version: '4';
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupKey: string;
  readonly alerts: readonly AlertmanagerAlert[];
}

export const MAX_ALERTS_PER_PAYLOAD = 1000;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringMap(v: unknown, field: string, errors: string[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v)) {
    errors.push(`${field}: expected an object of strings`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') errors.push(`${field}.${k}: expected a string`);
    else out[k] = x.slice(0, 2000);
  }
  return out;
}

/** Validates a payload; errors name the field (`alerts[2].labels.alertname: expected a string`). */
export function parseAlertmanagerPayload(body: unknown): { payload?: AlertmanagerPayload; errors: string[] } {
  const errors: string[] = [];
  if (!isRecord(body)) return { errors: ['body: expected an Alertmanager webhook payload (an object with version "4" and alerts)'] };
  if (body.version !== '4') errors.push(`version: expected "4" (Alertmanager webhook payload version 4), got ${JSON.stringify(body.version)}`);
  if (body.status !== 'firing' && body.status !== 'resolved') errors.push(`status: expected "firing" or "resolved", got ${JSON.stringify(body.status)}`);
  if (!Array.isArray(body.alerts)) {
    errors.push('alerts: expected a list');
    return { errors };
  }
  if (body.alerts.length > MAX_ALERTS_PER_PAYLOAD) errors.push(`alerts: at most ${MAX_ALERTS_PER_PAYLOAD} per request, got ${body.alerts.length}`);
  const alerts: AlertmanagerAlert[] = [];
  body.alerts.forEach((a: unknown, i: number) => {
    const at = `alerts[${i}]`;
    if (!isRecord(a)) {
      errors.push(`${at}: expected an object`);
      return;
    }
    if (a.status !== 'firing' && a.status !== 'resolved') errors.push(`${at}.status: expected "firing" or "resolved", got ${JSON.stringify(a.status)}`);
    const labels = stringMap(a.labels, `${at}.labels`, errors);
    if (typeof labels.alertname !== 'string' || labels.alertname === '') errors.push(`${at}.labels.alertname: expected a string`);
    const annotations = stringMap(a.annotations, `${at}.annotations`, errors);
    for (const f of ['startsAt', 'endsAt', 'fingerprint', 'generatorURL'] as const) {
      if (a[f] !== undefined && typeof a[f] !== 'string') errors.push(`${at}.${f}: expected a string`);
    }
    if (typeof a.startsAt === 'string' && Number.isNaN(Date.parse(a.startsAt))) errors.push(`${at}.startsAt: expected an RFC 3339 time`);
    alerts.push({
      status: a.status as 'firing' | 'resolved',
      labels,
      annotations,
      startsAt: typeof a.startsAt === 'string' ? a.startsAt : undefined,
      endsAt: typeof a.endsAt === 'string' ? a.endsAt : undefined,
      fingerprint: typeof a.fingerprint === 'string' ? a.fingerprint : undefined,
      generatorURL: typeof a.generatorURL === 'string' ? a.generatorURL : undefined,
    });
  });
  if (errors.length > 0) return { errors };
  return {
    payload: {
      version: '4',
      status: body.status as 'firing' | 'resolved',
      receiver: typeof body.receiver === 'string' ? body.receiver : '',
      groupKey: typeof body.groupKey === 'string' ? body.groupKey : '',
      alerts,
    },
    errors,
  };
}

/** Alertmanager severities to ours: critical/page/high, warning/warn/medium, info/low/none. */
export function severityOf(labels: Readonly<Record<string, string>>): Severity {
  const s = (labels.severity ?? '').toLowerCase();
  if (['critical', 'page', 'high', 'error'].includes(s)) return 'critical';
  if (['info', 'low', 'none', 'informational'].includes(s)) return 'info';
  return 'warning';
}

/** The `category` label when it is one of ours, else a guess from the alert name. */
export function categoryOf(labels: Readonly<Record<string, string>>): Category {
  if (isCategory(labels.category)) return labels.category;
  const n = labels.alertname ?? '';
  if (/database|postgres|\bpg|sql/i.test(n)) return 'database';
  if (/tts|audio|speech/i.test(n)) return 'tts';
  if (/llm|firsttoken|model|completion|responseduration/i.test(n)) return 'llm';
  if (/auth|login|credential/i.test(n)) return 'authentication';
  if (/cache|redis|upstream|integration/i.test(n)) return 'integration';
  if (/network|timeout|dns|tls/i.test(n)) return 'network';
  return 'system';
}

/** A real time from Alertmanager (it sends 0001-01-01T00:00:00Z for "unset"), else undefined. */
export function amTime(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) || t < Date.UTC(2000, 0, 1) ? undefined : t;
}

export function toNewAlert(a: AlertmanagerAlert, receivedAt: number): NewAlert {
  const name = a.labels.alertname ?? 'alert';
  const instance = a.labels.service_name ?? a.labels.instance ?? a.labels.job;
  const description = [a.annotations.description, a.annotations.runbook_url ? `Runbook: ${a.annotations.runbook_url}` : undefined, a.generatorURL ? `Source: ${a.generatorURL}` : undefined]
    .filter((x): x is string => x !== undefined && x !== '')
    .join('\n');
  return {
    fingerprint: alertmanagerFingerprint(a.fingerprint, a.labels),
    ruleId: `alertmanager:${name}`,
    origin: 'alertmanager',
    severity: severityOf(a.labels),
    category: categoryOf(a.labels),
    title: a.annotations.summary ?? `${name}${instance ? ` (${instance})` : ''}`,
    description,
    labels: a.labels,
    value: null,
    firedAt: Math.min(amTime(a.startsAt) ?? receivedAt, receivedAt),
  };
}
