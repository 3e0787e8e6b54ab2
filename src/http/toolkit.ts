import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { parseDuration } from '../../common/config';
import { badRequest, codeForStatus, HttpError } from '../../common/errors';
import { HEALTH_JSON } from './formats';

/**
 * The HTTP toolkit every resource uses: sending JSON, the catalogue's HttpError for refusals,
 * query-parameter parsers whose 400s name the parameter, and the router's error handler.
 */

export { HttpError, badRequest, notFound } from '../../common/errors';

/** Cache-Control of polled health answers: always revalidated. */
export const FRESH = 'private, max-age=0, must-revalidate';
export const NO_STORE = 'no-store';

/**
 * Sends a JSON body with plain res.end: Express's send() would hash every body for an ETag, which
 * a polled probe pays thousands of times a second and no health client uses.
 */
export function send(res: Response, status: number, body: unknown, cache = FRESH, type = 'application/json; charset=utf-8'): void {
  res.statusCode = status;
  res.setHeader('Cache-Control', cache);
  res.setHeader('Content-Type', type);
  res.end(JSON.stringify(body));
}

/**
 * Sends a JSON object with the request's id added (`requestId`), as every Chatpulse JSON body has.
 * An error answer (`error` in a 4xx/5xx body) also carries its stable catalogue `code`.
 */
export function sendJson(res: Response, status: number, body: Record<string, unknown>, cache = FRESH): void {
  const code = status >= 400 && body.error !== undefined && body.code === undefined ? { code: codeForStatus(status) } : {};
  send(res, status, { ...body, ...code, requestId: res.locals.requestId }, cache);
}

/** Sends an IETF health-check draft body. */
export function sendHealthJson(res: Response, status: number, body: unknown, cache = FRESH): void {
  send(res, status, body, cache, `${HEALTH_JSON}; charset=utf-8`);
}

/** A refusal: `{ error, ...extra, requestId }` with the error's status. */
export function sendError(res: Response, err: HttpError, cache = FRESH): void {
  sendJson(res, err.statusCode, { error: err.message, code: err.code, ...err.extra }, cache);
}

export function wantsHealthJson(req: Request): boolean {
  return (req.get('accept') ?? '').includes(HEALTH_JSON);
}

/** An async handler whose rejections reach the router's error handler. */
export function handle(fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req, res, next) => {
    try {
      const r = fn(req, res);
      if (r instanceof Promise) r.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

// ---- query parameters: every one may be given once; a 400 names it ------------------------------

/** A parameter given at most once (a repeated one is a 400). */
export function queryOnce(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`invalid query parameter ${name}: give it once, as a comma-separated list if needed`);
  return v;
}

/** One of `allowed`; a typo gets a 400 naming it and the allowed values. */
export function queryEnum<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const v = queryOnce(req, name);
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) {
    throw badRequest(`invalid query parameter ${name}=${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

/** `true`/`1` or `false`/`0`; absent is false. */
export function queryBool(req: Request, name: string): boolean {
  const v = queryEnum(req, name, ['true', 'false', '1', '0'] as const);
  return v === 'true' || v === '1';
}

/** A decimal integer in [min, max]; absent is `fallback`. */
export function queryInt(req: Request, name: string, fallback: number, min: number, max: number): number {
  const v = queryOnce(req, name);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`invalid query parameter ${name}=${JSON.stringify(v)}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

/** A comma-separated list of `allowed` values, with `aliases` standing for several (`active` → firing, acknowledged). */
export function queryList<T extends string>(req: Request, name: string, allowed: readonly T[], aliases: Record<string, readonly T[]> = {}): T[] | undefined {
  const v = queryOnce(req, name);
  if (v === undefined || v === '') return undefined;
  const out = new Set<T>();
  for (const part of v.split(',').map((s) => s.trim())) {
    if (aliases[part] !== undefined) for (const x of aliases[part]!) out.add(x);
    else if ((allowed as readonly string[]).includes(part)) out.add(part as T);
    else throw badRequest(`invalid query parameter ${name}=${JSON.stringify(v)}: ${JSON.stringify(part)} is not one of ${[...allowed, ...Object.keys(aliases)].join(', ')}`);
  }
  return [...out];
}

/** The earliest `since` accepted: nothing Chatpulse stores is older, and every store can compare it. */
const EARLIEST_SINCE = Date.UTC(1970, 0, 1);

/**
 * `since`: an ISO 8601 time, or a duration back from now (`15m`, `1h`, `7d`); as epoch ms. A value
 * before 1970 or beyond what a date can hold (`99999999999d`) is a 400 here, before any store.
 */
export function querySince(req: Request, now: number, fallback: number | undefined): number | undefined {
  const v = queryOnce(req, 'since');
  if (v === undefined) return fallback;
  const d = /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v.trim()) ? parseDuration(v) : undefined;
  const t = d !== undefined ? now - d : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw badRequest(`invalid query parameter since=${JSON.stringify(v)}: expected an ISO 8601 time (2025-01-23T10:30:00Z) or a duration back from now (15m, 1h, 7d)`);
  if (!Number.isFinite(t) || t < EARLIEST_SINCE || Number.isNaN(new Date(t).getTime())) {
    throw badRequest(`invalid query parameter since=${JSON.stringify(v)}: reaches before 1970-01-01T00:00:00Z; give a later time or a shorter duration`);
  }
  return t;
}

// ---- errors ----------------------------------------------------------------------------------

/**
 * The router's last handler: refusals as `{ error, code }`, a malformed percent-encoding in the
 * path and body-parser errors as 4xx, anything else a logged 500.
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) return sendError(res, err);
    const e = err as { status?: number; type?: string; message?: string };
    // Express decodes path parameters with decodeURIComponent: `%E0%A4%A` throws a URIError.
    if (err instanceof URIError) return sendJson(res, 400, { error: `malformed percent-encoding in the path ${JSON.stringify(req.originalUrl.split('?')[0]!.slice(0, 200))}` });
    if (e.type === 'entity.too.large') return sendJson(res, 413, { error: 'request body too large' });
    if (e.type === 'entity.parse.failed') return sendJson(res, 400, { error: `malformed JSON body: ${e.message}` });
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return sendJson(res, 415 as number, { error: `unsupported body encoding: ${e.message}` });
    logger.error({ err, requestId: res.locals.requestId }, 'health endpoint failed');
    sendJson(res, 500, { error: 'internal error' });
  };
}
