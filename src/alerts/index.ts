/**
 * Alerting's public API: createAlerting() and the types its callers see. The implementation is
 * split by concern: alerting.ts (lifecycle and evaluation), alert-cache.ts, rule-admin.ts,
 * statistics.ts, alertmanager-receiver.ts; the stores behind store.ts.
 */
export { createAlerting, type Alerting, type AlertingOptions, type AlertingStatus } from './alerting';
export type { AlertRecord, AlertEvent, ActiveAlertSummary } from './types';
export type { Rule, EffectiveRule } from './rules';
export { AlertConfigError, defaultRules } from './rules';
export { ERROR_TYPE_MAPPING } from './error-log';
export { StoreUnavailableError } from './store';
