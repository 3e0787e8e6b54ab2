import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { parseDuration } from '../../common/config';
import type { HealthConfig } from '../config/health-config';
import { bearerAuth } from '../http/auth';
import { rateLimit } from '../http/rate-limit';
import { parseAlertmanagerPayload, type AlertmanagerPayload } from './alertmanager';
import type { ErrorSample } from './error-log';
import { ruleToInput, type EffectiveRule } from './rules';
import { HttpError, StoreUnavailableError } from '../../common/errors';
import type { AlertCounts, AlertQuery } from './store';
import {
  ACTIONS,
  CATEGORIES,
  SEVERITIES,
  STATUSES,
  type Action,
  type AlertRecord,
  type AlertStatus,
  type Category,
  type Severity,
  type TransitionRecord,
} from './types';

export type { AlertsCore, PutRuleResult, StatsResult, TransitionResult } from './core';
import type { AlertsCore } from './core';

const MAX_IDS = 100;
const BASE = '/api/v1/health/alerts';

function one(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `invalid query parameter ${name}: give it once, as a comma-separated list if needed`);
  return v;
}

function listParam<T extends string>(req: Request, name: string, allowed: readonly T[], extra: Record<string, readonly T[]> = {}): T[] | undefined {
  const v = one(req, name);
  if (v === undefined || v === '') return undefined;
  const out = new Set<T>();
  for (const part of v.split(',').map((s) => s.trim())) {
    if (extra[part] !== undefined) for (const x of extra[part]!) out.add(x);
    else if ((allowed as readonly string[]).includes(part)) out.add(part as T);
    else throw new HttpError(400, `invalid query parameter ${name}=${JSON.stringify(v)}: ${JSON.stringify(part)} is not one of ${[...allowed, ...Object.keys(extra)].join(', ')}`);
  }
  return [...out];
}

function intParam(req: Request, name: string, fallback: number, min: number, max: number): number {
  const v = one(req, name);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `invalid query parameter ${name}=${JSON.stringify(v)}: expected an integer from ${min} to ${max}`);
  return n;
}

/** `since`: an ISO 8601 time, or a duration back from now (`15m`, `1h`, `7d`). */
function sinceParam(req: Request, now: number, fallback: number | undefined): number | undefined {
  const v = one(req, 'since');
  if (v === undefined) return fallback;
  const d = /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v.trim()) ? parseDuration(v) : undefined;
  if (d !== undefined) return now - d;
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new HttpError(400, `invalid query parameter since=${JSON.stringify(v)}: expected an ISO 8601 time (2025-01-23T10:30:00Z) or a duration back from now (15m, 1h, 7d)`);
  return t;
}

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new HttpError(400, `${field}: expected a string of at most ${max} characters`);
  return v.trim() === '' ? undefined : v.trim();
}

function parseActionBody(body: unknown): { action: Action; ids: string[]; note: string | null; by: string } {
  if (body === undefined) throw new HttpError(400, 'expected a JSON body (Content-Type: application/json) with action, ids, note, by');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body: expected a JSON object with action, ids, note, by');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['action', 'ids', 'note', 'by'].includes(k)) throw new HttpError(400, `${k}: unknown field (known: action, ids, note, by)`);
  if (b.action === undefined) throw new HttpError(400, `action: required, one of ${ACTIONS.join(', ')}`);
  if (typeof b.action !== 'string' || !ACTIONS.includes(b.action as Action)) {
    throw new HttpError(400, `action: unknown action ${JSON.stringify(b.action)} (expected ${ACTIONS.join(' or ')})`);
  }
  if (b.ids === undefined) throw new HttpError(400, 'ids: required: a non-empty list of alert ids');
  if (!Array.isArray(b.ids) || b.ids.length === 0) throw new HttpError(400, 'ids: expected a non-empty list of alert ids');
  if (b.ids.length > MAX_IDS) throw new HttpError(400, `ids: at most ${MAX_IDS} per request, got ${b.ids.length}`);
  const ids: string[] = [];
  b.ids.forEach((id, i) => {
    if (typeof id !== 'string' || id.trim() === '' || id.length > 100) throw new HttpError(400, `ids[${i}]: expected an alert id (a string)`);
    const norm = id.trim().toLowerCase();
    if (!ids.includes(norm)) ids.push(norm);
  });
  return { action: b.action as Action, ids, note: optionalString(b, 'note', 2000) ?? null, by: optionalString(b, 'by', 200) ?? 'anonymous' };
}

function ruleView(r: EffectiveRule): Record<string, unknown> {
  return { ...ruleToInput(r.rule), source: r.source, ...(r.updatedAt ? { updatedAt: r.updatedAt, updatedBy: r.updatedBy } : {}) };
}

/**
 * Mounts the alerts API on the health router:
 *
 *   GET  /api/v1/health/alerts               list (status, severity, category, since, limit, offset)
 *   POST /api/v1/health/alerts               { action: acknowledge|resolve, ids, note, by }
 *   GET  /api/v1/health/alerts/rules         the effective rules
 *   PUT  /api/v1/health/alerts/rules/:id     replace one rule (validated)
 *   GET  /api/v1/health/alerts/stats         counts by severity/category, error trend per interval
 *   GET  /api/v1/health/alerts/:id           one alert with its transitions
 *   POST /api/v1/health/alerts/alertmanager  Alertmanager webhook receiver (payload version 4)
 *
 * Everything is behind the health token. The API routes share one `/api/v1/health/alerts` rate
 * limit budget per client unless a sub-path has a limit of its own; the Alertmanager receiver
 * goes through the router's guard for its own path (limited only if configured).
 */
export function mountAlertsApi(router: Router, guard: (path: string) => RequestHandler[], core: AlertsCore): void {
  const limits = core.config.rateLimits;
  const base = limits[BASE];
  // One budget for the whole alerts API (20/min per client by default), unless a
  // sub-path has a limit of its own; the token check is the router's bearer auth.
  const shared: RequestHandler[] = [...(base === undefined ? [] : [rateLimit(BASE, base)]), bearerAuth(core.config.token)];
  const chain = (path: string): RequestHandler[] => (path !== BASE && limits[path] !== undefined ? guard(path) : shared);
  const alertsChain = chain(BASE);
  const json = express.json({ limit: '64kb' });
  const amJson = express.json({ limit: '1mb' });

  const send = (res: Response, status: number, body: Record<string, unknown>) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).json({ ...body, requestId: res.locals.requestId });
  };
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof HttpError) return send(res, err.statusCode, { error: err.message, ...err.extra });
        if (err instanceof StoreUnavailableError) {
          res.setHeader('Retry-After', '10');
          return send(res, 503, { error: err.message, store: core.storeInfo().kind });
        }
        next(err);
      }
    };
  const needStore = () => {
    const s = core.storeInfo();
    if (!s.ready) throw new StoreUnavailableError(`alert store (${s.kind}) not ready: ${s.error ?? 'starting'}`);
  };

  router.get(
    BASE,
    ...alertsChain,
    handle(async (req, res) => {
      const now = core.now();
      const statuses = listParam<AlertStatus>(req, 'status', STATUSES, { active: ['firing', 'acknowledged'], all: STATUSES }) ?? ['firing', 'acknowledged'];
      const severities = listParam<Severity>(req, 'severity', SEVERITIES);
      const categories = listParam<Category>(req, 'category', CATEGORIES);
      const sinceMs = sinceParam(req, now, undefined);
      const limit = intParam(req, 'limit', 50, 1, 500);
      const offset = intParam(req, 'offset', 0, 0, 1_000_000);
      needStore();
      const q: AlertQuery = { statuses, limit, offset, ...(severities ? { severities } : {}), ...(categories ? { categories } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}) };
      const { alerts, total } = await core.list(q);
      const next = offset + alerts.length < total ? offset + alerts.length : null;
      const info = core.storeInfo();
      send(res, 200, {
        alerts,
        total,
        limit,
        offset,
        nextOffset: next,
        filters: { status: statuses, severity: severities ?? null, category: categories ?? null, since: sinceMs === undefined ? null : new Date(sinceMs).toISOString() },
        recentErrors: core.recentErrors(10),
        store: { kind: info.kind, durable: info.durable },
        timestamp: new Date(now).toISOString(),
      });
    }),
  );

  router.post(
    BASE,
    ...alertsChain,
    json,
    handle(async (req, res) => {
      const { action, ids, note, by } = parseActionBody(req.body);
      needStore();
      const r = await core.transition(ids, action, by, note);
      if (r.ok) return send(res, 200, { action, alerts: r.alerts });
      if (r.notFound.length > 0) {
        return send(res, 404, { error: `unknown alert id${r.notFound.length > 1 ? 's' : ''}: ${r.notFound.join(', ')} (nothing was changed)`, notFound: r.notFound });
      }
      const c = r.conflicts.map((x) => `${x.id} is ${x.status}`).join('; ');
      send(res, 409, {
        error: `cannot ${action} ${r.conflicts.length > 1 ? 'alerts' : 'alert'}: ${c} (${action} applies to ${action === 'acknowledge' ? 'firing' : 'firing or acknowledged'} alerts; nothing was changed)`,
        conflicts: r.conflicts,
      });
    }),
  );

  router.get(
    `${BASE}/rules`,
    ...chain(`${BASE}/rules`),
    handle(async (_req, res) => {
      const { rules, evaluationIntervalMs } = core.rules();
      send(res, 200, { rules: rules.map(ruleView), evaluationIntervalMs, file: core.config.file ?? null });
    }),
  );

  router.put(
    `${BASE}/rules/:id`,
    ...chain(`${BASE}/rules`),
    json,
    handle(async (req, res) => {
      if (req.body === undefined) throw new HttpError(400, 'expected a JSON body (Content-Type: application/json): the complete rule');
      const by = typeof req.query.by === 'string' && req.query.by.trim() !== '' ? req.query.by.trim().slice(0, 200) : 'api';
      needStore();
      const r = await core.putRule(String(req.params.id), req.body, by);
      if (r.status !== 200) return send(res, r.status, { error: r.error, ...(r.errors ? { errors: r.errors } : {}) });
      send(res, 200, { rule: ruleView(r.rule), persisted: { store: core.storeInfo().kind, file: r.file } });
    }),
  );

  router.get(
    `${BASE}/stats`,
    ...chain(`${BASE}/stats`),
    handle(async (req, res) => {
      const now = core.now();
      const sinceMs = sinceParam(req, now, now - 3_600_000)!;
      const iv = one(req, 'interval');
      const intervalMs = iv === undefined ? 60_000 : parseDuration(iv);
      if (intervalMs === undefined || intervalMs < core.bucketMs || intervalMs % core.bucketMs !== 0) {
        throw new HttpError(400, `invalid query parameter interval=${JSON.stringify(iv)}: expected a duration that is a multiple of ${core.bucketMs / 1000}s, such as 1m or 1h`);
      }
      if (sinceMs >= now) throw new HttpError(400, 'invalid query parameter since: must be in the past');
      const points = Math.ceil((now - sinceMs) / intervalMs);
      if (points > 1000) throw new HttpError(400, `since/interval: ${points} points requested, at most 1000 (use a larger interval)`);
      needStore();
      const stats = await core.stats(sinceMs, intervalMs);
      send(res, 200, { since: new Date(sinceMs).toISOString(), until: new Date(now).toISOString(), intervalMs, ...stats });
    }),
  );

  router.get(
    `${BASE}/:id`,
    ...alertsChain,
    handle(async (req, res) => {
      needStore();
      const found = await core.get(String(req.params.id));
      if (found === null) throw new HttpError(404, `unknown alert id: ${String(req.params.id)}`);
      send(res, 200, { alert: found.alert, transitions: found.transitions });
    }),
  );

  router.post(
    `${BASE}/alertmanager`,
    ...guard(`${BASE}/alertmanager`),
    amJson,
    handle(async (req, res) => {
      if (req.body === undefined) throw new HttpError(400, 'expected a JSON body (Content-Type: application/json): an Alertmanager webhook payload');
      const { payload, errors } = parseAlertmanagerPayload(req.body);
      if (payload === undefined) throw new HttpError(400, `invalid Alertmanager payload: ${errors.slice(0, 10).join('; ')}`, { errors });
      needStore();
      const r = await core.receiveAlertmanager(payload);
      send(res, 200, { received: payload.alerts.length, ...r });
    }),
  );
}
