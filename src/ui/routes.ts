import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { HealthService } from '../service/health-service';
import type { UpstreamStats } from '../signals/upstream-window';
import { defaultServiceName } from '../../common/service-name';
import { VERSION } from '../../common/version';
import { APP_CSS } from './assets/app-css';
import { appJs } from './assets/app-js';
import { AlertsView, type AlertsSource } from './alerts-view';
import { MetricsHistory } from './history';
import { PAGE_HEADERS, renderPage } from './page';
import { buildSnapshot, type StatusSnapshot } from './snapshot';
import { StatusFeed } from './stream';
import { TicketSigner } from './ticket';
import { exporterStates } from '../../instrumentation/export/export-health';

export const UI_PATH = '/api/v1/health/ui';
export const STREAM_PATH = '/api/v1/health/stream';
export const TICKET_PATH = '/api/v1/health/stream/ticket';

/** Stream events shown on the page. */
const EVENTS_SHOWN = 20;

export interface StatusPageOptions {
  readonly service: HealthService;
  /** Alerting (src/alerts); without it the page says alerting is off. */
  readonly alerting?: AlertsSource;
  readonly logger: Logger;
  /** Shown in the title. Default OTEL_SERVICE_NAME, else `chatbot`. */
  readonly serviceName?: string;
  /** Evaluations kept for the charts. Default 120. */
  readonly historySize?: number;
  /** Concurrent live streams. Default 100. */
  readonly maxStreams?: number;
  /** `: keepalive` interval of the stream. Default 15 s. */
  readonly keepaliveMs?: number;
  /** The model calls the app made (the passive upstream checks' window), for the "Model calls" panel. */
  readonly upstreams?: () => readonly UpstreamStats[];
}

export interface StatusPage {
  readonly feed: StatusFeed;
  readonly history: MetricsHistory;
  snapshot(): StatusSnapshot;
  /** Ends the streams and unsubscribes (the service's own close does not need it: timers are unref'd). */
  close(): void;
}

/** Runs a guard's handlers in order; `next()` only if all of them passed. */
function runChain(chain: readonly RequestHandler[], req: Request, res: Response, next: NextFunction): void {
  let i = 0;
  const step = (err?: unknown): void => {
    if (err !== undefined && err !== null && err !== 'route') return next(err);
    const h = chain[i++];
    if (h === undefined) return next();
    try {
      void h(req, res, step);
    } catch (e) {
      next(e);
    }
  };
  step();
}

/**
 * Mounts the live status page on the health router:
 *
 *   GET  /api/v1/health/ui                the page (HTML, strict CSP)
 *   GET  /api/v1/health/ui/app.js|app.css its assets
 *   GET  /api/v1/health/stream            Server-Sent Events: a full snapshot on connect and on every change
 *   POST /api/v1/health/stream/ticket     a fresh 60 s ticket for (re)connecting the stream
 *
 * Auth is the router's guard (rate limit if configured + bearer token). A browser cannot send
 * `Authorization` on a navigation, a `<script>` or an EventSource, so:
 * - the page also takes the token as `?token=` (checked by the same guard, in constant time);
 * - the assets and the stream take a short-lived signed ticket (`?ticket=`, see ticket.ts) that
 *   the page was rendered with or that the script fetched with its bearer token. The token itself
 *   is never put in a subresource URL.
 */
export function mountStatusPage(router: Router, guard: (path: string) => RequestHandler[], o: StatusPageOptions): StatusPage {
  const { service, logger } = o;
  const config = service.config;
  // Read now: a package built without its client fails at startup, naming the file.
  const script = appJs();
  const signer = new TicketSigner(config.token);
  const history = new MetricsHistory(o.historySize ?? 120);
  const serviceName = o.serviceName ?? defaultServiceName();
  const log = logger.child({ module: 'status-page' });
  const feed = new StatusFeed({
    snapshot: () => snapshot(),
    ...(o.maxStreams !== undefined ? { maxClients: o.maxStreams } : {}),
    ...(o.keepaliveMs !== undefined ? { keepaliveMs: o.keepaliveMs } : {}),
    isClosing: () => service.isShuttingDown,
    logger: log,
  });
  const alerts = o.alerting === undefined ? undefined : new AlertsView(o.alerting, () => feed.update());
  const snapshot = (): StatusSnapshot =>
    buildSnapshot({
      service: serviceName,
      version: VERSION,
      report: service.report(),
      thresholds: config.thresholds,
      ...(alerts !== undefined ? { alerts: { active: alerts.active(), resolved: alerts.resolved() } } : {}),
      events: service.events(EVENTS_SHOWN),
      history: { capacity: history.capacity, intervalMs: config.evaluationIntervalMs, points: history.points() },
      exporters: exporterStates(),
      ...(o.upstreams !== undefined ? { upstream: { stats: o.upstreams(), grading: { thresholds: config.thresholds, minSamples: config.minSamples, disabled: config.disabledKpis } } } : {}),
    });

  const unsubscribe = [
    service.onEvaluated((r) => {
      history.record(r.snapshot, Date.parse(r.evaluatedAt));
      feed.update();
    }),
    service.onStatusChange((r) => (r.shuttingDown ? feed.finish() : feed.update())),
  ];

  // The token as a query parameter, for the page only: the same bearer guard then checks it.
  const tokenFromQuery: RequestHandler = (req, _res, next) => {
    const t = req.query.token;
    if (typeof t === 'string' && t !== '' && req.get('authorization') === undefined) req.headers.authorization = `Bearer ${t}`;
    next();
  };
  // A valid ticket, or else the guard (bearer token).
  const ticketOrGuard = (path: string): RequestHandler => {
    const chain = guard(path);
    return (req, res, next) => (signer.verify(req.query.ticket) ? next() : runChain(chain, req, res, next));
  };
  const headers = (res: Response) => {
    for (const [k, v] of Object.entries(PAGE_HEADERS)) res.setHeader(k, v);
  };

  router.get(UI_PATH, tokenFromQuery, ...guard(UI_PATH), (req, res) => {
    headers(res);
    res.type('html').send(renderPage({ base: req.baseUrl, ticket: signer.issue().ticket, serviceName, version: VERSION }));
  });
  router.get(`${UI_PATH}/app.js`, ticketOrGuard(UI_PATH), (_req, res) => {
    headers(res);
    res.type('application/javascript; charset=utf-8').send(script);
  });
  router.get(`${UI_PATH}/app.css`, ticketOrGuard(UI_PATH), (_req, res) => {
    headers(res);
    res.type('text/css; charset=utf-8').send(APP_CSS);
  });
  router.get(STREAM_PATH, ticketOrGuard(STREAM_PATH), (req, res) => feed.accept(req, res));
  router.post(TICKET_PATH, ...guard(STREAM_PATH), (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ...signer.issue(), stream: `${req.baseUrl}${STREAM_PATH}` });
  });

  return {
    feed,
    history,
    snapshot,
    close: () => {
      for (const u of unsubscribe) u();
      alerts?.close();
      feed.close();
    },
  };
}
