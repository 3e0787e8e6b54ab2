/**
 * The configuration pipeline: one parser per kind of value, one reader with three ways of
 * reporting a bad value, and the settings tables the instrumentation, the health service, the
 * alerts section and the CLI resolve from.
 */
import { describe, expect, it } from 'vitest';
import { ChatpulseConfigError } from '../../common/errors';
import { SettingsReader, bool, duration, httpUrl, int, list, oneOf, setting } from '../../common/config';
import { INSTRUMENTATION_SETTINGS, resolveConfig } from '../../instrumentation/config/env';
import { HEALTH_SETTINGS, MIN_ALERT_INTERVAL_MS, resolveHealthConfig } from '../../src/config/health-config';
import { parseAlertsSection } from '../../src/alerts/config';
import { durationFlag } from '../../src/cli/args';

describe('parsers', () => {
  it('accept values within their bounds and say why they refuse the rest', () => {
    expect(int(1, 10)('7')).toEqual({ ok: true, value: 7 });
    expect(int(1, 10)(11)).toEqual({ ok: false, reason: 'expected an integer from 1 to 10' });
    expect(duration(1000)('5m')).toEqual({ ok: true, value: 300_000 });
    expect(duration(1000)('500ms')).toMatchObject({ ok: false, reason: expect.stringContaining('at least 1000 ms') });
    expect(bool('TRUE')).toEqual({ ok: true, value: true });
    expect(oneOf(['a', 'b'] as const)('B')).toEqual({ ok: true, value: 'b' });
    expect(list(' a, ,b ')).toEqual({ ok: true, value: ['a', 'b'] });
    expect(httpUrl('postgres://u:secret@h/db')).toEqual({ ok: false, reason: 'expected an http or https URL', secret: true });
  });
});

describe('SettingsReader', () => {
  const s = setting({ key: 'windowMs', env: 'WINDOW', file: 'window', parse: duration(1000), default: 60_000 });

  it('the environment wins over the file, the file over the default', () => {
    expect(new SettingsReader('first', { WINDOW: '2m' }, { window: '3m' }).read(s)).toBe(120_000);
    expect(new SettingsReader('first', { WINDOW: '  ' }, { window: '3m' }).read(s)).toBe(180_000);
    expect(new SettingsReader('first', {}, {}).read(s)).toBe(60_000);
  });

  it('fallback mode records the rejection and uses the default', () => {
    const r = new SettingsReader('fallback', { WINDOW: 'soon' });
    expect(r.read(s)).toBe(60_000);
    expect(r.rejections).toEqual([{ variable: 'WINDOW', value: 'soon', reason: expect.stringContaining('expected a duration'), fallback: '60000' }]);
  });

  it('first mode throws naming the field; all mode throws every problem at the end', () => {
    expect(() => new SettingsReader('first', {}, { window: 'soon' }).read(s)).toThrow(expect.objectContaining({ code: 'CHATPULSE_ERR_CONFIG', field: 'window' }) as Error);
    const all = new SettingsReader('all', { WINDOW: 'soon' });
    all.read(s);
    all.value('other', 'x', int(0, 1), 0);
    let err: unknown;
    try {
      all.done();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChatpulseConfigError);
    expect((err as ChatpulseConfigError).variables).toEqual(['WINDOW', 'other']);
  });

  it('never echoes a secret value', () => {
    const r = new SettingsReader('fallback', { URL: 'postgres://u:s3cret@h/db' });
    r.read(setting<string | undefined>({ key: 'url', env: 'URL', parse: httpUrl, default: undefined }));
    expect(JSON.stringify(r.rejections)).not.toContain('s3cret');
    expect(() => new SettingsReader('first', { URL: 'postgres://u:s3cret@h/db' }).read(setting<string | undefined>({ key: 'url', env: 'URL', parse: httpUrl, default: undefined }))).toThrow(/^URL: expected an http or https URL$/);
  });
});

describe('settings tables', () => {
  it('every instrumentation setting with a bounded parser falls back with one warning naming its variable', () => {
    for (const s of Object.values(INSTRUMENTATION_SETTINGS)) {
      if (s.parse('not-a-valid-value!').ok) continue; // free text and lists take any value
      const { problems } = resolveConfig({ [s.env!]: 'not-a-valid-value!' });
      expect(problems.map((p) => p.variable), s.env).toEqual([s.env]);
      expect(problems[0]!.fallback).toBe(s.defaultText ?? String(s.default));
    }
  });

  it('every health setting read from the environment is named when invalid', () => {
    for (const s of Object.values(HEALTH_SETTINGS)) {
      if (s.parse('not-a-valid-value!').ok) continue;
      expect(() => resolveHealthConfig({}, { [s.env!]: 'not-a-valid-value!' }), s.env).toThrow(expect.objectContaining({ field: s.env }) as Error);
    }
  });

  it('the alert interval and webhook URL are resolved once into the frozen health configuration', () => {
    const c = resolveHealthConfig({}, { CHATPULSE_ALERT_INTERVAL: '250ms', CHATPULSE_ALERT_WEBHOOK_URL: 'https://hooks.example/x' });
    expect(c.alertIntervalMs).toBe(250);
    expect(c.alertWebhookUrl).toBe('https://hooks.example/x');
    expect(Object.isFrozen(c)).toBe(true);
    expect(resolveHealthConfig({}, {}).alertIntervalMs).toBeUndefined();
  });

  it('the least alert interval is the same from the environment and the file', () => {
    expect(MIN_ALERT_INTERVAL_MS).toBe(100);
    expect(() => resolveHealthConfig({}, { CHATPULSE_ALERT_INTERVAL: '99ms' })).toThrow(/CHATPULSE_ALERT_INTERVAL.*at least 100 ms/);
    expect(resolveHealthConfig({}, { CHATPULSE_ALERT_INTERVAL: '100ms' }).alertIntervalMs).toBe(100);
    expect(() => parseAlertsSection({ evaluationInterval: '99ms' })).toThrow(/alerts\.evaluationInterval.*at least 100 ms/);
    expect(parseAlertsSection({ evaluationInterval: '100ms' }).evaluationIntervalMs).toBe(100);
  });

  it('CLI flags use the same parsers, in the CLI wording', () => {
    expect(durationFlag('--window', '5m', 1000)).toBe(300_000);
    expect(() => durationFlag('--window', '500ms', 1000)).toThrow('--window: must be at least 1s, got "500ms"');
  });
});
