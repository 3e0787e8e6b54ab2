import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import { ChatpulseConfigError } from '../../common/errors';
import { settleWithin } from '../../common/timeout';
import type { Recorder } from '../../instrumentation/metrics/recorder';
import type { CheckScheduler, StatusChange } from '../checks/scheduler';
import { MIN_ALERT_INTERVAL_MS, type HealthConfig } from '../config/health-config';
import type { HealthService } from '../service/health-service';
import { AlertCache } from './alert-cache';
import { AlertmanagerReceiver } from './alertmanager-receiver';
import { mountAlertsApi } from '../http/resources/alerts';
import type { AlertsCore, Queued } from './core';
import { parseAlertsSection, type AlertsSettings, type WebhookSettings } from './config';
import { ErrorLog, MAX_MESSAGE } from './error-log';
import { Evaluator, type EvaluationSummary } from './evaluator';
import { MemoryStore } from './memory-store';
import { Notifier } from './notifier';
import { PostgresStore } from './postgres-store';
import { RuleAdmin } from './rule-admin';
import { RuleRegistry } from './rule-registry';
import { alertStatistics } from './statistics';
import { Spool, type NewSpoolEntry, type SpoolEntry } from './spool';
import { StoreGate } from './store-gate';
import { StoreUnavailableError, type AlertQuery, type AlertStore } from './store';
import { isCategory, isLevel, type Action, type ActiveAlertSummary, type AlertEvent, type Level } from './types';

export interface AlertingOptions {
  /** Health configuration: `alertsInput` (the file's `alerts` section), `file`, `token`, `rateLimits`. */
  readonly config: HealthConfig;
  /** KPI statuses and dependency results via `report()`. */
  readonly service: HealthService;
  /** Error events (chatbot.errors, stream outcomes, 401/403 answers, durations). */
  readonly recorder: Recorder;
  /** Dependency status changes become tracked errors. */
  readonly dependencies?: CheckScheduler;
  readonly logger: Logger;
  /** Postgres for durable state; absent: in memory, with a plain warning at start. */
  readonly databaseUrl?: string;
  /** Slack-compatible webhook (CHATPULSE_ALERT_WEBHOOK_URL); wins over `alerts.webhook.url`. */
  readonly webhookUrl?: string;
  /** Default: `alerts.evaluationInterval`, else 30000 (CHATPULSE_ALERT_INTERVAL). */
  readonly evaluationIntervalMs?: number;
  /** This replica's id (logs, transitions, the resolve vote). Default: hostname-pid-random. */
  readonly instanceId?: string;
  /** The rule clock (tests). Default Date.now. Webhook retry timing always uses real time. */
  readonly now?: () => number;
  /** A dedicated Postgres schema (created if missing). Default: the connection's search_path. */
  readonly schema?: string;
  /** Overrides of the webhook settings (tests: short timeouts and back-off). */
  readonly webhook?: Partial<Omit<WebhookSettings, 'url'>>;
  /** Per-statement timeout against Postgres. Default 5000 ms. */
  readonly statementTimeoutMs?: number;
  /** How long an API request waits for the store (CHATPULSE_ALERT_API_TIMEOUT); default `alerts.apiTimeout`, 500 ms. */
  readonly apiTimeoutMs?: number;
  /** Spool directory (CHATPULSE_ALERT_SPOOL_DIR); default `alerts.spool.dir`, none (memory only). */
  readonly spoolDir?: string;
}

export interface Alerting {
  extendRouter(router: Router, guard: (path: string) => RequestHandler[]): void;
  activeAlerts(): readonly ActiveAlertSummary[];
  trackError(e: { category: string; level: 'warning' | 'error' | 'critical'; message: string; source?: string }): void;
  evaluateNow(): Promise<void>;
  onChange(listener: (event: AlertEvent) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Store kind, durability, readiness, last evaluation, webhook counters. */
  status(): AlertingStatus;
  /** Waits until the webhook queue has no due notification left to try now (tests). */
  flushNotifications(): Promise<void>;
  readonly instanceId: string;
}

export interface AlertingStatus {
  readonly store: { kind: 'postgres' | 'memory'; durable: boolean; ready: boolean; error?: string };
  readonly evaluationIntervalMs: number;
  readonly lastEvaluation: (EvaluationSummary & { ok: true }) | { ok: false; at: string; error: string } | null;
  readonly webhook: { configured: boolean; sent: number; failedAttempts: number; dead: number } | null;
  /** Changes accepted while the store was down, waiting to be written. */
  readonly spool: { size: number; maxEntries: number; durable: boolean; applied: number; dropped: number };
}

const STOP_BOUND_MS = 5000;
/** How often the spool is offered to the store while it holds anything. */
const SPOOL_RETRY_MS = 1000;

function componentCategory(component: string) {
  return component === 'database' ? 'database' : component === 'system' ? 'system' : 'integration';
}

/**
 * Alerting: error tracking, rule evaluation, alert lifecycle (firing → acknowledged → resolved)
 * with durable state, webhooks, and the Alertmanager receiver. See docs/alerts.md.
 *
 * This file is the lifecycle (start, store readiness, stop) and evaluation loop; it composes the
 * live view (alert-cache.ts), rule administration (rule-admin.ts), statistics (statistics.ts)
 * and the Alertmanager intake (alertmanager-receiver.ts).
 *
 * Throws ChatpulseConfigError for an invalid `alerts` section (fail fast, like the health config);
 * never throws for an unreachable database: start() logs it and keeps retrying, and the API
 * answers 503 until the store is ready.
 */
export async function createAlerting(options: AlertingOptions): Promise<Alerting> {
  const settings: AlertsSettings = parseAlertsSection(options.config.alertsInput);
  return new AlertingImpl(options, settings);
}

class AlertingImpl implements Alerting {
  readonly instanceId: string;
  private readonly o: AlertingOptions;
  private readonly settings: AlertsSettings;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly store: AlertStore;
  private readonly errorLog: ErrorLog;
  private readonly registry: RuleRegistry;
  private readonly evaluator: Evaluator;
  private readonly notifier: Notifier | undefined;
  private readonly webhook: WebhookSettings;
  private readonly intervalMs: number;
  private readonly cache: AlertCache;
  private readonly ruleAdmin: RuleAdmin;
  private readonly receiver: AlertmanagerReceiver;
  private ready = false;
  private initError: string | undefined;
  private initializing: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private lastSoon = -Infinity;
  private unsubscribe: (() => void)[] = [];
  private current: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private last: AlertingStatus['lastEvaluation'] = null;
  private evaluations = 0;
  private readonly gate: StoreGate;
  private readonly spool: Spool;
  private spoolTimer: NodeJS.Timeout | undefined;

  constructor(o: AlertingOptions, settings: AlertsSettings) {
    this.o = o;
    this.settings = settings;
    this.logger = o.logger.child({ module: 'alerts' });
    this.now = o.now ?? Date.now;
    this.instanceId = o.instanceId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.intervalMs = o.evaluationIntervalMs ?? settings.evaluationIntervalMs ?? 30_000;
    if (!(this.intervalMs >= MIN_ALERT_INTERVAL_MS)) throw new RangeError(`alerts: evaluation interval must be at least ${MIN_ALERT_INTERVAL_MS} ms, got ${this.intervalMs}`);
    this.webhook = { ...settings.webhook, ...o.webhook, url: o.webhookUrl ?? settings.webhook.url };
    if (o.webhookUrl !== undefined) {
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(o.webhookUrl).protocol);
      } catch {
        ok = false;
      }
      // Never echo the value: the URL is a secret.
      if (!ok) throw ChatpulseConfigError.of('CHATPULSE_ALERT_WEBHOOK_URL', 'expected an http or https URL');
    }
    this.store = o.databaseUrl
      ? new PostgresStore({
          connectionString: o.databaseUrl,
          ...(o.schema !== undefined ? { schema: o.schema } : {}),
          ...(o.statementTimeoutMs !== undefined ? { statementTimeoutMs: o.statementTimeoutMs } : {}),
          applicationName: `chatpulse-alerts ${this.instanceId}`,
          onPoolError: (err) => this.logger.warn({ err: err.message }, 'alerts: Postgres connection lost'),
        })
      : new MemoryStore();
    this.gate = new StoreGate(this.store.kind, o.apiTimeoutMs ?? settings.apiTimeoutMs);
    const spoolDir = o.spoolDir ?? settings.spool.dir;
    this.spool = new Spool({ maxEntries: settings.spool.maxEntries, logger: this.logger, ...(spoolDir !== undefined ? { dir: spoolDir } : {}) });
    this.errorLog = new ErrorLog({ now: this.now, onCritical: () => this.evaluateSoon() });
    this.registry = new RuleRegistry(settings.rules, this.logger);
    this.cache = new AlertCache(this.logger, () => this.notifier?.kick());
    this.ruleAdmin = new RuleAdmin({ store: this.store, registry: this.registry, file: o.config.file, logger: this.logger, now: this.now, onChanged: () => this.evaluateSoon() });
    this.receiver = new AlertmanagerReceiver({
      store: this.store,
      instanceId: this.instanceId,
      now: this.now,
      notify: this.webhook.url !== undefined && settings.notifyAlertmanager,
      applied: (a, type) => this.cache.applied(a, type),
      logger: this.logger,
    });
    this.evaluator = new Evaluator({
      store: this.store,
      errorLog: this.errorLog,
      service: o.service,
      rules: () => this.registry.rules(),
      instanceId: this.instanceId,
      now: this.now,
      logger: this.logger,
      notify: this.webhook.url !== undefined,
      staleAfterMs: Math.max(3 * this.intervalMs, 10_000),
      onAlert: (a, change) => this.cache.applied(a, change === 'refreshed' ? undefined : change),
    });
    if (this.webhook.url !== undefined) {
      this.notifier = new Notifier({ store: this.store, url: this.webhook.url, settings: this.webhook, logger: this.logger, instanceId: this.instanceId });
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    if (!this.store.durable) {
      this.logger.warn(
        'alerts: no DATABASE_URL: alert state (alerts, acknowledgements, history, pending webhooks) is kept IN MEMORY ONLY; it is NOT durable, is lost on restart and is not shared between replicas',
      );
    }
    this.unsubscribe.push(this.errorLog.attach(this.o.recorder));
    this.unsubscribe.push(this.o.service.onStatusChange(() => this.evaluateSoon()));
    if (this.o.dependencies !== undefined) this.unsubscribe.push(this.o.dependencies.onChange((c) => this.dependencyChanged(c)));
    try {
      await this.spool.load();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'alerts: the spool file could not be read; changes spooled by a previous run are not replayed');
    }
    await this.init();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    this.spoolTimer = setInterval(() => {
      if (this.spool.size > 0) void this.drainSpool();
    }, SPOOL_RETRY_MS);
    this.spoolTimer.unref();
    if (this.spool.size > 0) void this.drainSpool();
    this.notifier?.start();
    this.logger.info(
      { store: this.store.kind, durable: this.store.durable, ready: this.ready, instance: this.instanceId, rules: this.registry.rules().length, intervalMs: this.intervalMs, webhook: this.webhook.url !== undefined },
      'alerts: started',
    );
    if (this.ready) void this.evaluateNow();
  }

  /** Runs migrations once; on failure logs, and the next tick tries again. */
  private init(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.initializing ??= (async () => {
      try {
        await this.store.init();
        this.ready = true;
        this.initError = undefined;
        this.gate.answered();
        await this.ruleAdmin.refreshOverrides();
        await this.cache.refresh(this.store);
      } catch (err) {
        this.initError = (err as Error).message;
        this.gate.failed(this.initError);
        this.logger.error({ err: this.initError, store: this.store.kind }, 'alerts: the alert store is not ready; retrying at the next evaluation (the alerts API answers 503 until then)');
      } finally {
        this.initializing = undefined;
      }
    })();
    return this.initializing;
  }

  private async tick(): Promise<void> {
    if (!this.ready) await this.init();
    if (this.ready) await this.evaluateNow();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.spoolTimer !== undefined) clearInterval(this.spoolTimer);
    if (this.soon !== undefined) clearTimeout(this.soon);
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    const deadline = Date.now() + STOP_BOUND_MS;
    await settleWithin(this.current ?? Promise.resolve(), STOP_BOUND_MS);
    if (this.spool.size > 0 && this.ready) await settleWithin(this.drainSpool(), Math.max(0, deadline - Date.now()));
    if (this.spool.size > 0) {
      if (this.spool.durable) this.logger.warn({ waiting: this.spool.size }, 'alerts: stopping with spooled changes on disk; the next start writes them to the store');
      else this.logger.error({ lost: this.spool.size }, 'alerts: stopping with spooled changes in memory only (no spool directory configured); they are lost');
    }
    if (this.ready) {
      await settleWithin(
        this.evaluator.flush().catch((err) => this.logger.warn({ err: (err as Error).message }, 'alerts: final error counts not saved')),
        Math.max(0, deadline - Date.now()),
      );
    }
    if (this.ready) {
      // A replica leaving cleanly stops voting at once; a crashed one's votes go stale.
      await settleWithin(
        this.store.withdraw(this.instanceId).catch((err) => this.logger.warn({ err: (err as Error).message }, 'alerts: could not withdraw this replica\'s observations')),
        Math.max(0, deadline - Date.now()),
      );
    }
    await this.notifier?.stop(Math.max(500, deadline - Date.now()));
    await this.store.close();
    this.logger.info({ instance: this.instanceId }, 'alerts: stopped');
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /** Evaluates now; a call while an evaluation runs queues exactly one more (coalesced). */
  evaluateNow(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const prev = this.current ?? Promise.resolve();
    const p: Promise<void> = prev.then(async () => {
      this.queued = undefined;
      this.current = p;
      try {
        await this.evaluateOnce();
      } finally {
        if (this.current === p) this.current = undefined;
      }
    });
    this.queued = p;
    return p;
  }

  /**
   * An evaluation within 20 ms (a critical error, a status change), but at most one per second:
   * a flood of critical errors must not turn into a flood of evaluations against the database.
   */
  private evaluateSoon(): void {
    if (this.stopped || !this.started || this.soon !== undefined) return;
    const delay = Math.max(20, this.lastSoon + 1000 - Date.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.lastSoon = Date.now();
      void this.evaluateNow();
    }, delay);
    this.soon.unref();
  }

  private async evaluateOnce(): Promise<void> {
    if (this.stopped && this.started) return;
    if (!this.ready) {
      await this.init();
      if (!this.ready) return;
    }
    try {
      await this.ruleAdmin.refreshOverrides();
      const summary = await this.evaluator.run();
      await this.cache.refresh(this.store);
      this.gate.answered();
      this.last = { ...summary, ok: true };
      if (++this.evaluations % 120 === 0) await this.prune();
      if (this.spool.size > 0) void this.drainSpool();
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof StoreUnavailableError) this.gate.failed(message);
      this.last = { ok: false, at: new Date(this.now()).toISOString(), error: message };
      this.logger.error({ err: message }, 'alerts: evaluation failed; alert state unchanged, retrying at the next interval');
    }
  }

  private async prune(): Promise<void> {
    try {
      await this.store.prune(this.now() - this.settings.retentionMs);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'alerts: pruning old alert history failed');
    }
  }

  // ---- the spool (spool.ts) -------------------------------------------------------------------

  /** Writes spooled changes to the store, in order; stops at the first it cannot take. */
  private async drainSpool(): Promise<void> {
    if (!this.ready) {
      await this.init();
      if (!this.ready) return;
    }
    const r = await this.spool.drain((e) => this.applySpooled(e));
    if (r.blocked !== undefined) this.gate.failed(r.blocked);
    else this.gate.answered();
    if (r.applied + r.skipped > 0) {
      this.logger.info({ applied: r.applied, skipped: r.skipped, dropped: r.dropped, waiting: this.spool.size }, 'alerts: spooled changes written to the store');
      this.evaluateSoon();
    }
  }

  private async applySpooled(e: SpoolEntry): Promise<void> {
    if (e.kind === 'alertmanager') {
      await this.receiver.receive(e.payload, { at: e.at, once: e.key });
      return;
    }
    const r = await this.store.transition(e.ids, e.action, { instanceId: this.instanceId, at: e.at, notify: this.webhook.url !== undefined, by: e.by, note: e.note, once: e.key });
    if (r.ok) {
      for (const a of r.alerts) this.cache.applied(a, a.status === 'resolved' ? 'resolved' : 'acknowledged');
      this.logger.info({ action: e.action, ids: e.ids, by: e.by, spooled: e.key }, `alerts: ${e.action}d by ${e.by} (accepted while the store was down)`);
    } else {
      // Accepted while the store could not check it; refused now it can. Recorded, not retried.
      this.logger.warn({ action: e.action, ids: e.ids, by: e.by, notFound: r.notFound, conflicts: r.conflicts, spooled: e.key }, `alerts: a queued ${e.action} was refused by the store; nothing was changed`);
    }
  }

  /**
   * Applies a change now if the store answers within the API bound, else keeps it in the spool.
   * While anything waits in the spool, new changes queue behind it: they are applied in order.
   */
  private async acceptChange<T>(entry: NewSpoolEntry, direct: (once: string) => Promise<T>): Promise<T | Queued> {
    const key = randomUUID();
    if (this.ready && this.spool.size === 0 && !this.gate.shut) {
      try {
        return await this.gate.run(() => direct(key));
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        // A timed-out call may still commit: its replay under the same key is then skipped.
      }
    }
    // Drained by the spool timer (each second): a drain now would only meet the same outage.
    const e = await this.spool.add({ ...entry, key });
    return { queued: { key: e.key, position: this.spool.size, durable: this.spool.durable, reason: this.gate.lastFailure || this.initError || 'the alert store is not ready' } };
  }

  // ---- the live view (alert-cache.ts) ----------------------------------------------------------

  onChange(listener: (event: AlertEvent) => void): () => void {
    return this.cache.onChange(listener);
  }

  activeAlerts(): readonly ActiveAlertSummary[] {
    return this.cache.active();
  }

  // ---- error tracking -------------------------------------------------------------------------

  trackError(e: { category: string; level: 'warning' | 'error' | 'critical'; message: string; source?: string }): void {
    try {
      const category = isCategory(e?.category) ? e.category : 'system';
      const level: Level = isLevel(e?.level) ? e.level : 'error';
      const message = typeof e?.message === 'string' ? e.message.slice(0, MAX_MESSAGE) : String(e?.message ?? '');
      const prefix = typeof e?.source === 'string' && e.source !== '' ? `[${e.source.slice(0, 100)}] ` : '';
      this.errorLog.record(category, level, 'manual', `${prefix}${message}`);
    } catch {
      // never throws
    }
  }

  private dependencyChanged(c: StatusChange): void {
    const cur = c.current;
    if (cur.status === 'pass' || cur.message === 'not checked yet') return;
    const level: Level = cur.status === 'fail' ? 'error' : 'warning';
    this.errorLog.record(componentCategory(cur.component), level, 'dependency', `${cur.name} ${cur.status}${cur.message ? `: ${cur.message}` : ''}`);
    this.evaluateSoon();
  }

  // ---- API core -------------------------------------------------------------------------------

  extendRouter = (router: Router, guard: (path: string) => RequestHandler[]): void => {
    mountAlertsApi(router, guard, this.core());
  };

  private core(): AlertsCore {
    const self = this;
    return {
      config: this.o.config,
      bucketMs: this.errorLog.bucketMs,
      now: () => this.now(),
      storeInfo: () => this.storeInfo(),
      // Reads wait for the store at most the API bound, then answer from the live view.
      list: async (q: AlertQuery) => {
        try {
          if (!this.ready) throw new StoreUnavailableError(`alert store (${this.store.kind}) not ready: ${this.initError ?? 'starting'}`);
          return await this.gate.run(() => this.store.list(q));
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          return { ...this.cache.query(q), stale: { reason: err.message, covers: 'open alerts' as const } };
        }
      },
      get: async (id: string) => {
        try {
          if (!this.ready) throw new StoreUnavailableError(`alert store (${this.store.kind}) not ready: ${this.initError ?? 'starting'}`);
          return await this.gate.run(() => this.store.get(id));
        } catch (err) {
          const open = this.cache.get(id.toLowerCase());
          if (!(err instanceof StoreUnavailableError) || open === undefined) throw err;
          return { alert: open, transitions: [], stale: { reason: err.message, covers: 'open alerts' as const } };
        }
      },
      transition: (ids: string[], action: Action, by: string, note: string | null) =>
        this.acceptChange({ kind: 'transition', at: this.now(), ids, action, by, note }, async (once) => {
          const r = await self.store.transition(ids, action, { instanceId: self.instanceId, at: self.now(), notify: self.webhook.url !== undefined, by, note, once });
          if (r.ok) {
            for (const a of r.alerts) self.cache.applied(a, a.status === 'resolved' ? 'resolved' : 'acknowledged');
            self.logger.info({ action, ids, by }, `alerts: ${action}d by ${by}`);
          }
          return r;
        }),
      rules: () => ({ rules: this.registry.all(), evaluationIntervalMs: this.intervalMs }),
      // A rule change is refused fast while the store does not answer (the caller retries).
      putRule: (id: string, body: unknown, by: string) => this.gate.run(() => this.ruleAdmin.putRule(id, body, by)),
      stats: (sinceMs: number, intervalMs: number) =>
        this.gate.run(() =>
          alertStatistics(
            { store: this.store, bucketMs: this.errorLog.bucketMs, flushCounts: () => this.evaluator.flush(), notifications: this.notifier !== undefined, now: this.now },
            sinceMs,
            intervalMs,
          ),
        ),
      recentErrors: (limit: number) => this.errorLog.recent(limit),
      receiveAlertmanager: (p) => this.acceptChange({ kind: 'alertmanager', at: this.now(), payload: p }, (once) => this.receiver.receive(p, { once })),
    };
  }

  private storeInfo() {
    return { kind: this.store.kind, durable: this.store.durable, ready: this.ready, ...(this.initError !== undefined ? { error: this.initError } : {}) };
  }

  status(): AlertingStatus {
    return {
      store: this.storeInfo(),
      evaluationIntervalMs: this.intervalMs,
      lastEvaluation: this.last,
      webhook: this.notifier === undefined ? null : { configured: true, ...this.notifier.stats },
      spool: { size: this.spool.size, maxEntries: this.spool.maxEntries, durable: this.spool.durable, applied: this.spool.applied, dropped: this.spool.dropped },
    };
  }

  async flushNotifications(): Promise<void> {
    if (this.notifier === undefined) return;
    this.notifier.kick();
    await this.notifier.idle();
  }
}

