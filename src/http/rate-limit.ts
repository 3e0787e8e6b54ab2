import type { NextFunction, Request, Response } from 'express';
import type { RateLimit } from '../config/health-config';
import { clientAddress, TRUST_NONE, type TrustProxy } from './client-address';
import { sendJson } from './toolkit';

/** Past this many tracked clients the oldest are dropped: memory stays bounded under a flood. */
const MAX_CLIENTS = 10_000;

/**
 * Fixed-window limit per client IP per endpoint; answers 429 with Retry-After (seconds) and the
 * draft RateLimit headers so well-behaved pollers can back off. Behind a reverse proxy the
 * client is read from X-Forwarded-For as far as `trust` allows (client-address.ts).
 */
export function rateLimit(endpoint: string, limit: RateLimit, trust: TrustProxy = TRUST_NONE, now: () => number = Date.now) {
  const clients = new Map<string, { start: number; count: number }>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = now();
    const ip = clientAddress(req, trust);
    let c = clients.get(ip);
    if (c === undefined || t - c.start >= limit.windowMs) {
      if (c === undefined && clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
      c = { start: t, count: 0 };
      clients.delete(ip);
      clients.set(ip, c);
    }
    c.count++;
    const resetS = Math.max(1, Math.ceil((c.start + limit.windowMs - t) / 1000));
    res.setHeader('RateLimit-Limit', String(limit.limit));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, limit.limit - c.count)));
    res.setHeader('RateLimit-Reset', String(resetS));
    if (c.count <= limit.limit) return next();
    res.setHeader('Retry-After', String(resetS));
    sendJson(
      res,
      429,
      { error: `rate limit exceeded for ${endpoint}: ${limit.limit} requests per ${limit.windowMs / 1000}s per client`, retryAfterSeconds: resetS },
      'no-store',
    );
  };
}
