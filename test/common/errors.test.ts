/**
 * The error catalogue: every catalogued error has a stable CHATPULSE_ERR_* code, config errors
 * from every consumer are one class naming their fields, and HTTP errors carry their status.
 */
import { describe, expect, it } from 'vitest';
import {
  ChatpulseConfigError,
  ChatpulseError,
  ERROR_CODES,
  HttpError,
  StoreUnavailableError,
  TimeoutError,
  UsageError,
  badRequest,
  notFound,
} from '../../common/errors';
import { parseAlertsSection } from '../../src/alerts/config';
import { errorMessage } from '../../src/checks/redact';
import { usageErrorOf } from '../../src/cli/args';
import { resolveHealthConfig } from '../../src/config/health-config';
import { ChatpulseConfigError as PublicConfigError, HealthConfigError, start } from '../../index';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('the error catalogue', () => {
  it('gives every error class a code from ERROR_CODES', () => {
    const errors: ChatpulseError[] = [
      ChatpulseConfigError.of('x', 'bad'),
      new UsageError('bad flag'),
      badRequest('bad query'),
      notFound('no such alert'),
      new HttpError(409, 'conflict'),
      new StoreUnavailableError('down'),
      new TimeoutError(5),
    ];
    expect(errors.map((e) => e.code)).toEqual([
      'CHATPULSE_ERR_CONFIG',
      'CHATPULSE_ERR_USAGE',
      'CHATPULSE_ERR_BAD_REQUEST',
      'CHATPULSE_ERR_NOT_FOUND',
      'CHATPULSE_ERR_CONFLICT',
      'CHATPULSE_ERR_STORE_UNAVAILABLE',
      'CHATPULSE_ERR_TIMEOUT',
    ]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(ChatpulseError);
      expect(e).toBeInstanceOf(Error);
      expect(Object.values(ERROR_CODES)).toContain(e.code);
    }
    expect(new Set(Object.keys(ERROR_CODES)).size).toBe(Object.values(ERROR_CODES).length);
    expect(Object.entries(ERROR_CODES).every(([k, v]) => k === v && /^CHATPULSE_ERR_[A-Z_]+$/.test(k))).toBe(true);
  });

  it('HTTP errors carry their status and the extra body fields', () => {
    const e = new HttpError(400, 'invalid Alertmanager payload', { errors: ['alerts: expected a list'] });
    expect(e.statusCode).toBe(400);
    expect(e.extra).toEqual({ errors: ['alerts: expected a list'] });
    expect(new StoreUnavailableError('down').statusCode).toBe(503);
  });

  it('one config error class for start(), the health config and the alerts section, naming every field', () => {
    const fromStart = thrown(() => start({ env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc', OTEL_METRIC_EXPORT_INTERVAL: '-1' } })) as ChatpulseConfigError;
    const fromHealth = thrown(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_WINDOW: 'soon' })) as ChatpulseConfigError;
    const fromAlerts = thrown(() => parseAlertsSection({ evaluationInterval: 'often', webhook: { url: 'ftp://x' } })) as ChatpulseConfigError;
    for (const e of [fromStart, fromHealth, fromAlerts]) {
      expect(e).toBeInstanceOf(ChatpulseConfigError);
      expect(e).toBeInstanceOf(PublicConfigError);
      expect(e).toBeInstanceOf(HealthConfigError);
      expect(e.code).toBe('CHATPULSE_ERR_CONFIG');
    }
    expect(fromStart.variables).toEqual(expect.arrayContaining(['OTEL_EXPORTER_PROMETHEUS_PORT', 'OTEL_METRIC_EXPORT_INTERVAL']));
    expect(fromHealth.field).toBe('CHATPULSE_HEALTH_WINDOW');
    expect(fromHealth.message).toMatch(/^CHATPULSE_HEALTH_WINDOW: /);
    expect(fromAlerts.problems.map((p) => p.field)).toEqual(['alerts.evaluationInterval', 'alerts.webhook.url']);
    expect(fromAlerts.errors[1]).toBe('alerts.webhook.url: expected an http or https URL');
  });

  it('CLI usage errors are catalogued', () => {
    const e = usageErrorOf(Object.assign(new Error("Unknown option '--bogus'"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.code).toBe('CHATPULSE_ERR_USAGE');
    expect(e.message).toBe('unknown option --bogus');
  });

  it("check messages show a system code, never a catalogue code", () => {
    expect(errorMessage(new TimeoutError(300))).toBe('timed out after 300 ms');
    expect(errorMessage(Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' }))).toBe('connect failed (ECONNREFUSED)');
  });
});
