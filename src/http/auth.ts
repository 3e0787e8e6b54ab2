import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { sendJson } from './toolkit';

/**
 * Bearer-token guard. Both sides are hashed first so the comparison is constant-time and does
 * not leak the token's length.
 */
export function bearerAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : createHash('sha256').update(token).digest();
  return (req: Request, res: Response, next: NextFunction): void => {
    if (expected === undefined) return next();
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = createHash('sha256').update(m?.[1]?.trim() ?? '').digest();
    if (m !== null && timingSafeEqual(given, expected)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="chatpulse"');
    sendJson(res, 401, { error: m === null ? 'missing bearer token' : 'invalid bearer token' }, 'no-store');
  };
}
