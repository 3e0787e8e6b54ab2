/** The HTTP toolkit's query parsers: one behaviour for every resource, 400s naming the parameter. */
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { HttpError, queryBool, queryEnum, queryInt, queryList, queryOnce, querySince } from '../../../src/http/toolkit';

const req = (query: Record<string, unknown>) => ({ query }) as unknown as Request;

function refusal(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return e as HttpError;
  }
  throw new Error('expected a 400');
}

describe('query parsers', () => {
  it('every parameter may be given once', () => {
    for (const fn of [
      (r: Request) => queryOnce(r, 'p'),
      (r: Request) => queryEnum(r, 'p', ['a']),
      (r: Request) => queryInt(r, 'p', 1, 0, 9),
      (r: Request) => queryList(r, 'p', ['a']),
    ]) {
      const e = refusal(() => fn(req({ p: ['a', 'a'] })));
      expect(e.statusCode).toBe(400);
      expect(e.code).toBe('CHATPULSE_ERR_BAD_REQUEST');
      expect(e.message).toBe('invalid query parameter p: give it once, as a comma-separated list if needed');
    }
  });

  it('enum, bool, int: the value or a 400 naming the parameter and what is allowed', () => {
    expect(queryEnum(req({ service: 'redis' }), 'service', ['redis', 'database'])).toBe('redis');
    expect(refusal(() => queryEnum(req({ service: 'redsi' }), 'service', ['redis', 'database'])).message).toBe('invalid query parameter service="redsi": expected one of redis, database');
    expect(queryBool(req({ details: '1' }), 'details')).toBe(true);
    expect(queryBool(req({}), 'details')).toBe(false);
    expect(queryInt(req({}), 'limit', 50, 1, 500)).toBe(50);
    expect(refusal(() => queryInt(req({ limit: '0' }), 'limit', 50, 1, 500)).message).toBe('invalid query parameter limit="0": expected an integer from 1 to 500');
  });

  it('lists expand aliases; since takes a time or a duration back from now', () => {
    expect(queryList(req({ status: 'active,resolved' }), 'status', ['firing', 'acknowledged', 'resolved'] as const, { active: ['firing', 'acknowledged'] })).toEqual(['firing', 'acknowledged', 'resolved']);
    expect(querySince(req({ since: '15m' }), 1_000_000, undefined)).toBe(100_000);
    expect(querySince(req({ since: '2025-01-23T10:30:00Z' }), 0, undefined)).toBe(Date.parse('2025-01-23T10:30:00Z'));
    expect(refusal(() => querySince(req({ since: 'yesterday' }), 0, undefined)).message).toMatch(/^invalid query parameter since="yesterday"/);
  });
});
