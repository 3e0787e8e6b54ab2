import { createHash } from 'node:crypto';

/**
 * The identity of an alert: a stable hash of the rule id and its grouping labels (label order does
 * not matter). Alerts from Alertmanager keep Alertmanager's own fingerprint, prefixed `am:`.
 */
export function fingerprint(ruleId: string, groupLabels: Readonly<Record<string, string>> = {}): string {
  const labels = Object.keys(groupLabels)
    .sort()
    .map((k) => [k, groupLabels[k]]);
  return createHash('sha256').update(JSON.stringify([ruleId, labels])).digest('hex').slice(0, 32);
}

/** Alertmanager's fingerprint when it sent one, else a hash of the alert's labels. */
export function alertmanagerFingerprint(fp: string | undefined, labels: Readonly<Record<string, string>>): string {
  if (fp !== undefined && /^[0-9a-zA-Z]{1,64}$/.test(fp)) return `am:${fp}`;
  return `am:${fingerprint('alertmanager', labels).slice(0, 16)}`;
}
