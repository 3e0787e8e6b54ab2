import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { ERROR_TYPES } from '../../../instrumentation/metrics/catalog';
import { AlertConfigError, createAlerting, defaultRules } from '../../../src/alerts';
import { categoryOf, parseAlertmanagerPayload, severityOf } from '../../../src/alerts/alertmanager';
import { parseAlertsSection } from '../../../src/alerts/config';
import { ErrorLog, ERROR_TYPE_MAPPING } from '../../../src/alerts/error-log';
import { fingerprint } from '../../../src/alerts/fingerprint';
import { webhookBody } from '../../../src/alerts/notifier';
import { parseRule, resolveRules, ruleToInput } from '../../../src/alerts/rules';
import { KPIS } from '../../../src/grading/kpis';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { HealthService } from '../../../src/service/health-service';

/** Rules, configuration, error tracking and formatting: no database needed. */

describe('default rules', () => {
  const rules = Object.fromEntries(defaultRules().map((r) => [r.id, r]));

  it("are the five built-in rules, the dependency rules, and every KPI at warn and fail", () => {
    expect(Object.keys(rules)).toHaveLength(5 + 2 + KPIS.length * 2);
    expect(rules['high-error-rate']).toMatchObject({ kind: 'errors', operator: '>', threshold: 10, windowMs: 300_000 });
    expect(rules['database-errors']).toMatchObject({ kind: 'errors', operator: '>=', threshold: 3, windowMs: 300_000, match: { categories: ['database'] } });
    expect(rules['authentication-failures']).toMatchObject({ kind: 'errors', operator: '>=', threshold: 5, windowMs: 600_000, match: { categories: ['authentication'] } });
    expect(rules['critical-error']).toMatchObject({ kind: 'errors', operator: '>=', threshold: 1, match: { levels: ['critical'] }, severity: 'critical', groupBy: ['category'] });
    expect(rules['slow-responses']).toMatchObject({ kind: 'responseTime', threshold: 30 });
    for (const k of KPIS) {
      expect(rules[`kpi-${k.key}-warn`]).toMatchObject({ kind: 'kpi', kpi: k.key, level: 'warn', severity: 'warning' });
      expect(rules[`kpi-${k.key}-fail`]).toMatchObject({ kind: 'kpi', kpi: k.key, level: 'fail', severity: 'critical' });
    }
  });

  it('round-trip through their file form', () => {
    for (const r of defaultRules()) expect(parseRule(ruleToInput(r), '').rule).toEqual(r);
  });
});

describe('rule validation names the field', () => {
  it('in the config file: alerts.rules[i].field', () => {
    const input = [
      { id: 'high-error-rate', threshold: 20 },
      { id: 'mine', kind: 'errors', name: 'Mine', severity: 'warning', window: '5m', threshold: 'x' },
      { id: 'mine2', kind: 'errors', name: 'Mine', severity: 'warning', window: '5m', threshold: 2, match: { categories: ['agent'] } },
      { id: 'kpi-cpu-warn', kind: 'kpi', name: 'CPU', severity: 'warning', kpi: 'cpu', level: 'sometimes' },
      { id: 'mine', kind: 'responseTime', name: 'dup', severity: 'info', window: '1m', threshold: 5 },
    ];
    let err: unknown;
    try {
      resolveRules(input, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlertConfigError);
    const errors = (err as AlertConfigError).errors;
    expect(errors).toContain('alerts.rules[1].threshold: expected a positive number, got "x"');
    expect(errors).toContain('alerts.rules[2].match.categories: expected a non-empty list of system, database, authentication, integration, llm, tts, network, validation, got ["agent"]');
    expect(errors).toContain('alerts.rules[3].level: expected "warn" or "fail", got "sometimes"');
    expect(errors).toContain('alerts.rules[4].id: duplicate rule id "mine"');
  });

  it('a partial entry overrides a default; a new rule needs every field; defaults: false drops them', () => {
    const rules = resolveRules([{ id: 'high-error-rate', threshold: 20 }], true);
    expect(rules.find((r) => r.rule.id === 'high-error-rate')).toMatchObject({ source: 'file', rule: { threshold: 20, windowMs: 300_000, operator: '>' } });
    expect(() => resolveRules([{ id: 'new-rule', threshold: 2 }], true)).toThrow(/alerts\.rules\[0\]\.kind: expected one of errors, responseTime, kpi, dependency/);
    expect(resolveRules([], false)).toHaveLength(0);
  });

  it('the alerts section: unknown fields, bad durations, webhook settings', () => {
    expect(() => parseAlertsSection({ rulez: [] })).toThrow('alerts.rulez: unknown field');
    expect(() => parseAlertsSection({ evaluationInterval: 'often' })).toThrow(/alerts\.evaluationInterval: expected a duration/);
    expect(() => parseAlertsSection({ webhook: { url: 'ftp://x' } })).toThrow('alerts.webhook.url: expected an http or https URL');
    expect(() => parseAlertsSection({ webhook: { rateLimit: { limit: 0, window: '1m' } } })).toThrow(/alerts\.webhook\.rateLimit\.limit/);
    const s = parseAlertsSection({ evaluationInterval: '15s', webhook: { timeout: '2s', rateLimit: { limit: 5, window: '1m' } }, retention: '7d' });
    expect(s).toMatchObject({ evaluationIntervalMs: 15_000, retentionMs: 7 * 86_400_000, webhook: { timeoutMs: 2000, rateLimit: { limit: 5, windowMs: 60_000 }, retryDelayMs: 1000 } });
    expect(parseAlertsSection(undefined).rules.length).toBe(defaultRules().length);
  });

  it('createAlerting rejects a webhook URL that is not http(s), without echoing it', async () => {
    const recorder = new Recorder();
    const config = resolveHealthConfig({}, {});
    const service = new HealthService({ config, signals: HealthService.windowSource(recorder, config), autoEvaluate: false });
    await expect(createAlerting({ config, service, recorder, logger: pino({ level: 'silent' }), webhookUrl: 'hooks.slack.com/services/SECRET' })).rejects.toThrow(
      /^CHATPULSE_ALERT_WEBHOOK_URL: expected an http or https URL$/,
    );
    await service.close();
  });

  it('createAlerting fails fast on an invalid alerts section', async () => {
    const recorder = new Recorder();
    const config = resolveHealthConfig({ alerts: { rules: [{ id: 'x', kind: 'errors', name: 'X', severity: 'warning', window: '5m', threshold: -3 }] } }, {});
    const service = new HealthService({ config, signals: HealthService.windowSource(recorder, config), autoEvaluate: false });
    await expect(createAlerting({ config, service, recorder, logger: pino({ level: 'silent' }) })).rejects.toThrow('alerts.rules[0].threshold: expected a positive number, got -3');
    await service.close();
  });
});

describe('error tracking', () => {
  it('maps every chatbot error type to a category and level', () => {
    for (const t of ERROR_TYPES) expect(ERROR_TYPE_MAPPING[t], t).toBeDefined();
    expect(ERROR_TYPE_MAPPING.timeout).toEqual({ category: 'network', level: 'error' });
    expect(ERROR_TYPE_MAPPING.cache).toEqual({ category: 'integration', level: 'error' });
    expect(ERROR_TYPE_MAPPING.validation).toEqual({ category: 'validation', level: 'warning' });
  });

  it('counts recorder events by bucket, category, level and source', () => {
    let t = 1_000_000;
    const log = new ErrorLog({ now: () => t });
    const recorder = new Recorder();
    const detach = log.attach(recorder);
    const route = recorder.route('/chat');
    recorder.error('timeout');
    recorder.error('timeout');
    recorder.streamStarted(route);
    recorder.streamEnded(route, 'failed', 1);
    recorder.streamStarted(route);
    recorder.streamEnded(route, 'aborted', 40);
    recorder.requestFinished('GET', route, 401, 0.01);
    t += 10_000;
    recorder.error('cache');
    detach();
    recorder.error('llm'); // detached: not counted
    const { errors, latency } = log.drain();
    expect(errors).toEqual(
      expect.arrayContaining([
        { bucket: 1_000_000, category: 'network', level: 'error', source: 'metric', count: 2 },
        { bucket: 1_000_000, category: 'system', level: 'error', source: 'stream', count: 1 },
        { bucket: 1_000_000, category: 'network', level: 'warning', source: 'stream', count: 1 },
        { bucket: 1_000_000, category: 'authentication', level: 'warning', source: 'http', count: 1 },
        { bucket: 1_010_000, category: 'integration', level: 'error', source: 'metric', count: 1 },
      ]),
    );
    expect(errors).toHaveLength(5);
    expect(latency).toEqual([{ bucket: 1_000_000, responses: 3, maxSeconds: 40 }]);
    expect(log.drain()).toEqual({ errors: [], latency: [] });
    expect(log.recent(1)[0]).toMatchObject({ category: 'authentication', message: 'GET /chat answered 401' });
  });

  it('keeps memory bounded whatever the traffic, and puts back what the store did not take', () => {
    let t = 0;
    const log = new ErrorLog({ now: () => t, maxPendingBuckets: 50, recentSize: 20 });
    for (let i = 0; i < 20_000; i++) {
      t += 1000;
      log.record('llm', 'error', 'manual', `error ${i}`);
      log.recordLatency(0.5);
    }
    expect(log.pendingBuckets).toBeLessThanOrEqual(100);
    expect(log.droppedBuckets).toBeGreaterThan(0);
    expect(log.recent(100)).toHaveLength(20);
    const drained = log.drain();
    log.record('llm', 'error', 'manual');
    log.restore(drained);
    const again = log.drain();
    expect(again.errors.reduce((a, e) => a + e.count, 0)).toBe(drained.errors.reduce((a, e) => a + e.count, 0) + 1);
  });

  it('never throws on bad input', () => {
    const log = new ErrorLog();
    expect(() => log.record('nonsense', 'fatal', 'manual', undefined)).not.toThrow();
    expect(log.drain().errors[0]).toMatchObject({ category: 'system', level: 'error' });
  });
});

describe('formatting', () => {
  it('fingerprints are stable and ignore label order', () => {
    expect(fingerprint('r', { a: '1', b: '2' })).toBe(fingerprint('r', { b: '2', a: '1' }));
    expect(fingerprint('r', { a: '1' })).not.toBe(fingerprint('s', { a: '1' }));
    expect(fingerprint('r')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the webhook body is Slack-compatible text plus the alert', () => {
    const alert = {
      id: 'id-1', fingerprint: 'f', ruleId: 'database-errors', origin: 'rule' as const, severity: 'warning' as const, category: 'database' as const,
      title: 'Database errors: 3 database errors in the last 5m (threshold >= 3)', description: 'line 1\nline 2', labels: {}, value: 3,
      status: 'resolved' as const, firedAt: '2025-01-23T10:00:00.000Z', lastSeenAt: '2025-01-23T10:00:00.000Z', updatedAt: '2025-01-23T10:05:00.000Z',
      acknowledgedAt: null, acknowledgedBy: null, resolvedAt: '2025-01-23T10:05:00.000Z', resolvedBy: 'alice', resolution: 'manual' as const, note: 'failover done <!channel>', instanceId: 'i',
    };
    const b = webhookBody({ id: '7', event: 'resolved', alert }, 'i');
    expect(b.text).toBe(
      ':white_check_mark: *[RESOLVED] WARNING* (database) Database errors: 3 database errors in the last 5m (threshold &gt;= 3)\nResolved by alice at 2025-01-23T10:05:00.000Z — failover done &lt;!channel&gt;\nAlert id-1 · rule database-errors · fired 2025-01-23T10:00:00.000Z',
    );
    expect(b.chatpulse).toMatchObject({ event: 'resolved', notificationId: '7', alert: { id: 'id-1' } });
  });

  it('maps Alertmanager severities and alert names', () => {
    expect(severityOf({ severity: 'critical' })).toBe('critical');
    expect(severityOf({ severity: 'page' })).toBe('critical');
    expect(severityOf({})).toBe('warning');
    expect(severityOf({ severity: 'info' })).toBe('info');
    expect(categoryOf({ alertname: 'X', category: 'tts' })).toBe('tts');
    expect(categoryOf({ alertname: 'ChatbotTimeToFirstAudioHigh' })).toBe('tts');
    expect(categoryOf({ alertname: 'ChatbotTimeToFirstTokenBudgetBurn' })).toBe('llm');
    expect(categoryOf({ alertname: 'ChatbotKbCacheHitRateLow' })).toBe('integration');
    expect(categoryOf({ alertname: 'ChatbotTargetDown' })).toBe('system');
    expect(parseAlertmanagerPayload({ version: '4', status: 'firing', alerts: [] }).errors).toEqual([]);
  });
});
