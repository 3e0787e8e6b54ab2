import { describe, expect, it } from 'vitest';
import { settleWithin } from '../../common/timeout';
import { defaultServiceName } from '../../common/service-name';

const after = (ms: number, fail = false) => new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error('late')) : resolve('ok')), ms));

describe('settleWithin', () => {
  it('resolves true when the work settles in time, rejected or not', async () => {
    expect(await settleWithin(after(5), 500)).toBe(true);
    expect(await settleWithin(after(5, true), 500)).toBe(true);
  });

  it('resolves false at the bound, not later, and never rejects', async () => {
    const started = performance.now();
    const slow = after(400, true);
    slow.catch(() => undefined);
    expect(await settleWithin(slow, 50)).toBe(false);
    expect(performance.now() - started).toBeLessThan(300);
  });
});

describe('defaultServiceName', () => {
  it('is OTEL_SERVICE_NAME, else chatbot', () => {
    expect(defaultServiceName({ OTEL_SERVICE_NAME: 'support-bot' })).toBe('support-bot');
    expect(defaultServiceName({})).toBe('chatbot');
  });
});
