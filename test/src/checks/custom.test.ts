import { afterEach, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { customChecks, outcome } from '../../../src/checks/custom';
import { loadChecksModule } from '../../../src/checks/checks-module';
import { sanitizeDetails, MAX_DETAILS_BYTES } from '../../../src/checks/details';
import { CheckScheduler } from '../../../src/checks/scheduler';
import { ChatpulseConfigError } from '../../../common/errors';
import { waitFor } from './wait';

const FIXTURES = path.resolve(__dirname, '../../fixtures/health-checks');
const ok = async () => ({ status: 'healthy' as const });

function configError(f: () => unknown): ChatpulseConfigError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ChatpulseConfigError);
    return err as ChatpulseConfigError;
  }
  throw new Error('expected a ChatpulseConfigError');
}

describe('custom checks: validation at start', () => {
  it('names the offending field for each kind of bad input', () => {
    expect(configError(() => customChecks('auth', 'checks')).field).toBe('checks');
    expect(configError(() => customChecks([{ name: 'Auth', check: ok }], 'checks')).field).toBe('checks[0].name');
    expect(configError(() => customChecks([{ name: 'auth', check: ok }, { name: 'auth', check: ok }], 'checks')).message).toMatch(/checks\[1\]\.name: duplicate check name "auth"/);
    expect(configError(() => customChecks([{ name: 'database', check: ok }], 'checks')).message).toMatch(/checks\[0\]\.name: "database" is taken/);
    expect(configError(() => customChecks([{ name: 'llm', check: ok }], 'checks', ['llm'])).field).toBe('checks[0].name');
    expect(configError(() => customChecks([{ name: 'auth' }], 'checks')).field).toBe('checks[0].check');
    expect(configError(() => customChecks([{ name: 'auth', check: ok, timeout: 'soon' }], 'checks')).message).toMatch(/checks\[0\]\.timeout: expected a duration/);
    expect(configError(() => customChecks([{ name: 'auth', check: ok, interval: '10ms' }], 'checks')).message).toMatch(/checks\[0\]\.interval: .*at least 100 ms/);
    expect(configError(() => customChecks([{ name: 'auth', check: ok, tags: ['Bad Tag'] }], 'checks')).field).toBe('checks[0].tags');
    expect(configError(() => customChecks([{ name: 'auth', check: ok, required: 'yes' }], 'checks')).field).toBe('checks[0].required');
    expect(configError(() => customChecks([{ name: 'auth', check: ok, intervall: '1s' }], 'checks')).field).toBe('checks[0].intervall');
  });

  it('reads durations in the settings format, with defaults', () => {
    const [a, b] = customChecks([{ name: 'auth', check: ok, timeout: '500ms', interval: '1m', tags: ['auth'] }, { name: 'agents', check: ok, required: false }], 'checks');
    expect(a).toMatchObject({ name: 'auth', component: 'custom', timeoutMs: 500, intervalMs: 60_000, required: true, tags: ['auth'] });
    expect(b).toMatchObject({ name: 'agents', timeoutMs: 2000, intervalMs: 10_000, required: false });
  });
});

describe('custom checks: whatever the function does, a safe result', () => {
  it('maps the statuses and coerces garbage to a failure saying what came back', () => {
    expect(outcome({ status: 'healthy' }).status).toBe('pass');
    expect(outcome({ status: 'degraded' }).status).toBe('warn');
    expect(outcome({ status: 'unhealthy' }).status).toBe('fail');
    expect(outcome(undefined)).toMatchObject({ status: 'fail', message: expect.stringMatching(/check returned undefined/) });
    expect(outcome(42)).toMatchObject({ status: 'fail' });
    expect(outcome({ status: 'ok' })).toMatchObject({ status: 'fail', message: expect.stringMatching(/invalid status "ok"/) });
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); } });
    expect(outcome(hostile)).toMatchObject({ status: 'fail', message: expect.stringMatching(/unreadable: boom/) });
  });

  it('grades a throw unhealthy with a redacted message, Error or not', async () => {
    const [c1, c2, c3, c4] = customChecks(
      [
        { name: 'a', check: () => { throw new Error('login to postgres://app:Pw0rd123@db/x failed, password=Pw0rd123'); } },
        { name: 'b', check: async () => { throw 'plain string token=abcdef123'; } },
        // A thrown value whose conversion to text itself throws.
        { name: 'c', check: async () => { throw Object.create(null); } },
        { name: 'd', check: async () => { throw { toString() { throw new Error('no'); } }; } },
      ],
      'checks',
    );
    const signal = new AbortController().signal;
    const r1 = await c1!.run(signal);
    expect(r1.status).toBe('fail');
    expect(r1.message).toContain('postgres://app:***@db/x');
    expect(r1.message).not.toContain('Pw0rd123');
    expect((await c2!.run(signal)).message).toBe('plain string token=***');
    expect((await c3!.run(signal)).status).toBe('fail');
    expect((await c4!.run(signal)).status).toBe('fail');
  });

  it('redacts and bounds details', () => {
    const d = sanitizeDetails({
      providers: ['google', 'github'],
      clientSecret: 'abc',
      nested: { apiKey: 'k', url: 'https://u:pw12345@h.example/x', deep: { a: { b: { c: { d: 1 } } } } },
      fn: () => 1,
      big: 10n,
      when: new Date(0),
      inf: Infinity,
    })!;
    expect(d).toEqual({
      providers: ['google', 'github'],
      clientSecret: '***',
      nested: { apiKey: '***', url: 'https://u:***@h.example/x', deep: { a: { b: '[nested too deep]' } } },
      big: '10',
      when: '1970-01-01T00:00:00.000Z',
      inf: 'Infinity',
    });
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    expect(JSON.stringify(sanitizeDetails(cyclic))).toContain('nested too deep');
    const huge = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(400)]));
    expect(sanitizeDetails(huge)).toEqual({ truncated: true, reason: expect.stringContaining(`${MAX_DETAILS_BYTES} bytes`) });
    expect(sanitizeDetails('text')).toEqual({ value: 'text' });
  });

  describe('in the scheduler', () => {
    let scheduler: CheckScheduler | undefined;
    afterEach(async () => {
      await scheduler?.stop();
    });

    it('marks a check that never settles unhealthy at its timeout, answering from memory meanwhile', async () => {
      scheduler = new CheckScheduler(customChecks([{ name: 'mcp', check: () => new Promise(() => {}), timeout: '200ms', interval: '300ms', required: false }], 'checks'), { stopTimeoutMs: 50 });
      const started = performance.now();
      scheduler.start();
      const t0 = performance.now();
      expect(scheduler.result('mcp')).toMatchObject({ status: 'warn', message: 'not checked yet' });
      expect(performance.now() - t0).toBeLessThan(5);
      const r = await waitFor(() => scheduler!.result('mcp')?.status === 'fail' && scheduler!.result('mcp'), 2000, 'timeout');
      expect(r.message).toMatch(/timed out after 200 ms/);
      expect(performance.now() - started).toBeLessThan(200 + 300);
      expect(scheduler.result('mcp')!.required).toBe(false);
    });
  });
});

describe('checks module', () => {
  it('loads CommonJS (module.exports = [...]) and ESM (export const checks)', async () => {
    const cjs = await loadChecksModule(path.join(FIXTURES, 'checks.js'), 'CHATPULSE_HEALTH_CHECKS');
    const esm = await loadChecksModule(path.join(FIXTURES, 'checks.mjs'), 'CHATPULSE_HEALTH_CHECKS');
    expect(cjs.map((c) => c.name)).toEqual(['auth', 'parlant', 'mcp', 'game']);
    expect(esm.map((c) => c.name)).toEqual(['auth', 'parlant', 'mcp', 'game']);
  });

  it('rejects a missing, broken or malformed module, naming the setting and the file', async () => {
    for (const [file, problem] of [
      ['missing.js', /no such file/],
      // The parser's wording differs between Node and vitest's loader; the zero-code test sees Node's.
      ['syntax-error.mjs', /cannot be loaded: ./],
      ['no-export.js', /expected the checks array as the default export/],
      ['bad-name.js', /checks\[0\]\.name: expected 1 to 64 of a-z/],
    ] as const) {
      const full = path.join(FIXTURES, file);
      const err = await loadChecksModule(full, 'CHATPULSE_HEALTH_CHECKS').then(() => undefined, (e: unknown) => e);
      expect(err, file).toBeInstanceOf(ChatpulseConfigError);
      expect((err as ChatpulseConfigError).field).toBe('CHATPULSE_HEALTH_CHECKS');
      expect((err as Error).message).toContain(full);
      expect((err as Error).message).toMatch(problem);
    }
  });
});
