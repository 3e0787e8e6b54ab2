import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { parseDuration } from '../../../common/config';
import { StoreUnavailableError } from '../../../common/errors';
import { parseAlertmanagerPayload } from '../../alerts/alertmanager';
import type { AlertsCore } from '../../alerts/core';
import { ruleToInput, type EffectiveRule } from '../../alerts/rules';
import type { AlertQuery } from '../../alerts/store';
import { ACTIONS, CATEGORIES, SEVERITIES, STATUSES, type Action, type AlertStatus, type Category, type Severity } from '../../alerts/types';
import { bearerAuth } from '../auth';
import { rateLimit } from '../rate-limit';
import { HttpError, NO_STORE, badRequest, notFound, queryInt, queryList, queryOnce, querySince, sendError, sendJson } from '../toolkit';

const MAX_IDS = 100;
const BASE = '/api/v1/health/alerts';

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw badRequest(`${field}: expected a string of at most ${max} characters`);
  return v.trim() === '' ? undefined : v.trim();
}

function parseActionBody(body: unknown): { action: Action; ids: string[]; note: string | null; by: string } {
  if (body === undefined) throw badRequest('expected a JSON body (Content-Type: application/json) with action, ids, note, by');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: expected a JSON object with action, ids, note, by');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['action', 'ids', 'note', 'by'].includes(k)) throw badRequest(`${k}: unknown field (known: action, ids, note, by)`);
  if (b.action === undefined) throw badRequest(`action: required, one of ${ACTIONS.join(', ')}`);
  if (typeof b.action !== 'string' || !ACTIONS.includes(b.action as Action)) {
    throw badRequest(`action: unknown action ${JSON.stringify(b.action)} (expected ${ACTIONS.join(' or ')})`);
  }
  if (b.ids === undefined) throw badRequest('ids: required: a non-empty list of alert ids');
  if (!Array.isArray(b.ids) || b.ids.length === 0) throw badRequest('ids: expected a non-empty list of alert ids');
  if (b.ids.length > MAX_IDS) throw badRequest(`ids: at most ${MAX_IDS} per request, got ${b.ids.length}`);
  const ids: string[] = [];
  b.ids.forEach((id, i) => {
    if (typeof id !== 'string' || id.trim() === '' || id.length > 100) throw badRequest(`ids[${i}]: expected an alert id (a string)`);
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
 *   POST /api/v1/health/alerts               { action: acknowledge|resolve, ids, note, by } (202 queued while the store is down)
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
  const shared: RequestHandler[] = [...(base === undefined ? [] : [rateLimit(BASE, base, core.config.trustProxy)]), bearerAuth(core.config.token)];
  const chain = (path: string): RequestHandler[] => (path !== BASE && limits[path] !== undefined ? guard(path) : shared);
  const alertsChain = chain(BASE);
  const json = express.json({ limit: '64kb' });
  const amJson = express.json({ limit: '1mb' });

  // Alert state changes from one request to the next: never cached.
  const send = (res: Response, status: number, body: Record<string, unknown>) => sendJson(res, status, body, NO_STORE);
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof HttpError) return sendError(res, err, NO_STORE);
        if (err instanceof StoreUnavailableError) {
          res.setHeader('Retry-After', '10');
          return send(res, 503, { error: err.message, code: err.code, store: core.storeInfo().kind });
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
      const statuses = queryList<AlertStatus>(req, 'status', STATUSES, { active: ['firing', 'acknowledged'], all: STATUSES }) ?? ['firing', 'acknowledged'];
      const severities = queryList<Severity>(req, 'severity', SEVERITIES);
      const categories = queryList<Category>(req, 'category', CATEGORIES);
      const sinceMs = querySince(req, now, undefined);
      const limit = queryInt(req, 'limit', 50, 1, 500);
      const offset = queryInt(req, 'offset', 0, 0, 1_000_000);
      const q: AlertQuery = { statuses, limit, offset, ...(severities ? { severities } : {}), ...(categories ? { categories } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}) };
      // Within the API bound whatever the store does: from the live view (`stale`) when it does not answer.
      const { alerts, total, stale } = await core.list(q);
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
        ...(stale !== undefined ? { stale: true, staleReason: stale.reason, staleCovers: stale.covers } : {}),
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
      const r = await core.transition(ids, action, by, note);
      if ('queued' in r) return send(res, 202, { action, ids, queued: true, spool: r.queued });
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
      if (req.body === undefined) throw badRequest('expected a JSON body (Content-Type: application/json): the complete rule');
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
      const sinceMs = querySince(req, now, now - 3_600_000)!;
      const iv = queryOnce(req, 'interval');
      const intervalMs = iv === undefined ? 60_000 : parseDuration(iv);
      if (intervalMs === undefined || intervalMs < core.bucketMs || intervalMs % core.bucketMs !== 0) {
        throw badRequest(`invalid query parameter interval=${JSON.stringify(iv)}: expected a duration that is a multiple of ${core.bucketMs / 1000}s, such as 1m or 1h`);
      }
      if (sinceMs >= now) throw badRequest('invalid query parameter since: must be in the past');
      const points = Math.ceil((now - sinceMs) / intervalMs);
      if (points > 1000) throw badRequest(`since/interval: ${points} points requested, at most 1000 (use a larger interval)`);
      needStore();
      const stats = await core.stats(sinceMs, intervalMs);
      send(res, 200, { since: new Date(sinceMs).toISOString(), until: new Date(now).toISOString(), intervalMs, ...stats });
    }),
  );

  router.get(
    `${BASE}/:id`,
    ...alertsChain,
    handle(async (req, res) => {
      const found = await core.get(String(req.params.id));
      if (found === null) throw notFound(`unknown alert id: ${String(req.params.id)}`);
      send(res, 200, { alert: found.alert, transitions: found.transitions, ...(found.stale !== undefined ? { stale: true, staleReason: found.stale.reason, staleCovers: found.stale.covers } : {}) });
    }),
  );

  router.post(
    `${BASE}/alertmanager`,
    ...guard(`${BASE}/alertmanager`),
    amJson,
    handle(async (req, res) => {
      if (req.body === undefined) throw badRequest('expected a JSON body (Content-Type: application/json): an Alertmanager webhook payload');
      const { payload, errors } = parseAlertmanagerPayload(req.body);
      if (payload === undefined) throw badRequest(`invalid Alertmanager payload: ${errors.slice(0, 10).join('; ')}`, { errors });
      const r = await core.receiveAlertmanager(payload);
      if ('queued' in r) return send(res, 202, { received: payload.alerts.length, queued: true, spool: r.queued });
      send(res, 200, { received: payload.alerts.length, ...r });
    }),
  );
}
