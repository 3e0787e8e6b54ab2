import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { redactText } from '../checks/redact';
import type { ErrorCountRow, LatencyRow } from './error-log';
import { migrate, quoteIdent } from './migrations';
import { ruleToInput, type Rule } from './rules';
import {
  AlreadyAppliedError,
  countInto,
  emptyCounts,
  StoreUnavailableError,
  type AlertCounts,
  type AlertQuery,
  type AlertStore,
  type Notification,
  type RuleOverride,
  type TransitionOutcome,
  type WriteOptions,
} from './store';
import { ALLOWED_FROM, type Action, type AlertRecord, type AlertStatus, type Category, type NewAlert, type Resolution, type Severity, type TransitionRecord } from './types';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** A dedicated schema (created if missing, set as the pool's search_path). Default: the role's search_path. */
  readonly schema?: string;
  /** Per-statement deadline (server-side statement_timeout and client-side query_timeout). Default 5000 ms. */
  readonly statementTimeoutMs?: number;
  /** Connections at most. Default 4. */
  readonly maxConnections?: number;
  /**
   * Called once per connection found dead: idle in the pool, inside a transaction, or under a
   * single statement (which is then retried on a fresh connection).
   */
  readonly onPoolError?: (err: Error) => void;
  /** Shown in pg_stat_activity. Default `chatpulse-alerts`. */
  readonly applicationName?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

interface AlertRow extends QueryResultRow {
  id: string;
  fingerprint: string;
  rule_id: string;
  origin: 'rule' | 'alertmanager';
  severity: Severity;
  category: Category;
  title: string;
  description: string;
  labels: Record<string, string>;
  value: number | null;
  status: AlertStatus;
  fired_at: Date;
  last_seen_at: Date;
  updated_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: Resolution | null;
  note: string | null;
  instance_id: string;
}

/** The connection died (not the statement): a retry on a fresh connection may succeed. */
function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code === '57P01' || e.code === '57P02' || e.code === '57P03' || e.code === 'ECONNRESET' || e.code === 'EPIPE') return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection/i.test(e.message ?? '');
}

/** Retries after a lost connection: one per pooled connection that may have died with it. */
const MAX_RECONNECTS = 4;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function toRecord(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    ruleId: r.rule_id,
    origin: r.origin,
    severity: r.severity,
    category: r.category,
    title: r.title,
    description: r.description,
    labels: r.labels,
    value: r.value,
    status: r.status,
    firedAt: r.fired_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    note: r.note,
    instanceId: r.instance_id,
  };
}

/**
 * The durable store. Every statement runs under a statement timeout; every failure surfaces as
 * StoreUnavailableError with a redacted message (connection strings carry passwords).
 */
export class PostgresStore implements AlertStore {
  readonly kind = 'postgres' as const;
  readonly durable = true;
  private readonly pool: Pool;
  private readonly onConnectionError: ((err: Error) => void) | undefined;
  private readonly schema: string | undefined;

  constructor(o: PostgresStoreOptions) {
    if (o.schema !== undefined && !SCHEMA.test(o.schema)) throw new TypeError(`alerts schema ${JSON.stringify(o.schema)}: expected a plain identifier`);
    this.schema = o.schema;
    const timeout = o.statementTimeoutMs ?? 5000;
    const config: PoolConfig = {
      connectionString: o.connectionString,
      max: o.maxConnections ?? 4,
      connectionTimeoutMillis: timeout,
      statement_timeout: timeout,
      query_timeout: timeout + 1000,
      lock_timeout: timeout,
      idle_in_transaction_session_timeout: timeout * 2,
      idleTimeoutMillis: 30_000,
      application_name: (o.applicationName ?? 'chatpulse-alerts').slice(0, 63),
      ...(o.schema !== undefined ? { options: `-c search_path=${quoteIdent(o.schema)}` } : {}),
    };
    this.pool = new Pool(config);
    this.onConnectionError = o.onPoolError;
    // An idle client's error (server restart) must not crash the process.
    this.pool.on('error', (err) => o.onPoolError?.(err));
  }

  private unavailable(err: unknown): StoreUnavailableError | AlreadyAppliedError {
    if (err instanceof StoreUnavailableError || err instanceof AlreadyAppliedError) return err;
    const message = redactText(err instanceof Error ? err.message : String(err));
    return new StoreUnavailableError(`alert store (Postgres) unavailable: ${message}`, { cause: err });
  }

  private async q<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (err) {
        // pool.query handles a checked-out client's 'error' itself, so this is the only place
        // a connection killed under a single statement is seen.
        const lost = isConnectionLost(err);
        if (lost) this.onConnectionError?.(err as Error);
        if (attempt < MAX_RECONNECTS && lost) continue;
        throw this.unavailable(err);
      }
    }
  }

  /**
   * Runs `fn` in a transaction. A connection lost before the commit (server restart, failover,
   * a killed backend) rolls the transaction back, so it is retried on a fresh connection (the
   * pool may hold several dead ones).
   */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw this.unavailable(err);
      }
      let broken = false;
      // A checked-out client emits 'error' when its connection dies (the pool only listens to idle
      // ones); unhandled, that would crash the host app. The pending query rejects anyway.
      const onError = (err: Error) => {
        broken = true;
        this.onConnectionError?.(err);
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        broken = isConnectionLost(err);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        if (attempt < MAX_RECONNECTS && broken) continue;
        throw this.unavailable(err);
      } finally {
        client.removeListener('error', onError);
        client.release(broken ? true : undefined);
      }
    }
  }

  async init(): Promise<void> {
    try {
      await migrate(this.pool, this.schema);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  /** Records a change's idempotency key in its transaction; a key seen before aborts it. */
  private async claim(c: PoolClient, o: WriteOptions): Promise<void> {
    if (o.once === undefined) return;
    const r = await c.query(`INSERT INTO chatpulse_alert_applied (key, applied_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [o.once, new Date(o.at)]);
    if ((r.rowCount ?? 0) === 0) throw new AlreadyAppliedError(o.once);
  }

  private async record(c: PoolClient, alertId: string, from: AlertStatus | null, to: AlertStatus, o: WriteOptions & { by: string; note?: string | null }): Promise<void> {
    await c.query(
      `INSERT INTO chatpulse_alert_transitions (alert_id, from_status, to_status, at, by, note, instance_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [alertId, from, to, new Date(o.at), o.by, o.note ?? null, o.instanceId],
    );
  }

  private async enqueue(c: PoolClient, alert: AlertRecord, event: 'fired' | 'resolved'): Promise<void> {
    const now = new Date();
    await c.query(
      `INSERT INTO chatpulse_alert_notifications (alert_id, event, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)`,
      [alert.id, event, JSON.stringify(alert), now],
    );
  }

  async fire(a: NewAlert, o: WriteOptions): Promise<{ alert: AlertRecord; created: boolean }> {
    return this.tx(async (c) => {
      await this.claim(c, o);
      for (let attempt = 0; attempt < 3; attempt++) {
        const at = new Date(a.firedAt);
        const inserted = await c.query<AlertRow>(
          `INSERT INTO chatpulse_alerts (id, fingerprint, rule_id, origin, severity, category, title, description, labels, value, status,
                                         fired_at, last_seen_at, updated_at, instance_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'firing', $11, $11, $11, $12)
           ON CONFLICT (fingerprint) WHERE status <> 'resolved' DO NOTHING
           RETURNING *`,
          [randomUUID(), a.fingerprint, a.ruleId, a.origin, a.severity, a.category, a.title, a.description, JSON.stringify(a.labels), a.value, at, o.instanceId],
        );
        if (inserted.rows[0] !== undefined) {
          const alert = toRecord(inserted.rows[0]);
          await this.record(c, alert.id, null, 'firing', { ...o, by: a.origin === 'alertmanager' ? 'alertmanager' : `rule:${a.ruleId}` });
          if (o.notify) await this.enqueue(c, alert, 'fired');
          return { alert, created: true };
        }
        const refreshed = await c.query<AlertRow>(
          `UPDATE chatpulse_alerts
              SET last_seen_at = GREATEST(last_seen_at, $2), value = $3, title = $4, description = $5
            WHERE fingerprint = $1 AND status <> 'resolved'
            RETURNING *`,
          [a.fingerprint, new Date(o.at), a.value, a.title, a.description],
        );
        if (refreshed.rows[0] !== undefined) return { alert: toRecord(refreshed.rows[0]), created: false };
        // Resolved between the two statements: try the insert again.
      }
      throw new StoreUnavailableError(`could not fire ${a.fingerprint}: it kept changing under concurrent writers`);
    });
  }

  async resolveFingerprint(fingerprint: string, o: WriteOptions & { by: string; resolution: Resolution; note?: string; vote?: { freshSince: number } }): Promise<AlertRecord | null> {
    return this.tx(async (c) => {
      await this.claim(c, o);
      const prev = await c.query<{ id: string; status: AlertStatus }>(
        `SELECT id, status FROM chatpulse_alerts WHERE fingerprint = $1 AND status <> 'resolved' FOR UPDATE`,
        [fingerprint],
      );
      const row = prev.rows[0];
      if (row === undefined) return null;
      if (o.vote !== undefined) {
        const held = await c.query(
          `SELECT 1 FROM chatpulse_alert_observations
            WHERE fingerprint = $1 AND active AND instance_id <> $2 AND observed_at >= $3 LIMIT 1`,
          [fingerprint, o.instanceId, new Date(o.vote.freshSince)],
        );
        if ((held.rowCount ?? 0) > 0) return null;
      }
      const res = await c.query<AlertRow>(
        `UPDATE chatpulse_alerts
            SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolution = $4, updated_at = $2, note = COALESCE($5, note)
          WHERE id = $1 AND status <> 'resolved'
          RETURNING *`,
        [row.id, new Date(o.at), o.by, o.resolution, o.note ?? null],
      );
      const updated = res.rows[0];
      if (updated === undefined) return null;
      const alert = toRecord(updated);
      await this.record(c, alert.id, row.status, 'resolved', o);
      if (o.notify) await this.enqueue(c, alert, 'resolved');
      return alert;
    });
  }

  async transition(ids: readonly string[], action: Action, o: WriteOptions & { by: string; note: string | null }): Promise<TransitionOutcome> {
    const valid = ids.filter((id) => UUID.test(id));
    const invalid = ids.filter((id) => !UUID.test(id));
    return this.tx(async (c) => {
      await this.claim(c, o);
      // Lock in a fixed order so two batches never deadlock.
      const found = await c.query<{ id: string; status: AlertStatus }>(
        `SELECT id, status FROM chatpulse_alerts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        [valid],
      );
      const byId = new Map(found.rows.map((r) => [r.id, r.status]));
      const notFound = [...invalid, ...valid.filter((id) => !byId.has(id.toLowerCase()))];
      const allowed = ALLOWED_FROM[action];
      const conflicts = [...byId].filter(([, s]) => !allowed.includes(s)).map(([id, status]) => ({ id, status }));
      if (notFound.length > 0 || conflicts.length > 0) return { ok: false, notFound, conflicts };
      const at = new Date(o.at);
      const res =
        action === 'acknowledge'
          ? await c.query<AlertRow>(
              `UPDATE chatpulse_alerts SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, updated_at = $2, note = COALESCE($4, note)
                WHERE id = ANY($1::uuid[]) AND status = 'firing' RETURNING *`,
              [valid, at, o.by, o.note],
            )
          : await c.query<AlertRow>(
              `UPDATE chatpulse_alerts SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolution = 'manual', updated_at = $2, note = COALESCE($4, note)
                WHERE id = ANY($1::uuid[]) AND status <> 'resolved' RETURNING *`,
              [valid, at, o.by, o.note],
            );
      const alerts = res.rows.map(toRecord);
      for (const a of alerts) {
        await this.record(c, a.id, byId.get(a.id)!, a.status, o);
        if (o.notify && a.status === 'resolved') await this.enqueue(c, a, 'resolved');
      }
      return { ok: true, alerts };
    });
  }

  async get(id: string): Promise<{ alert: AlertRecord; transitions: TransitionRecord[] } | null> {
    if (!UUID.test(id)) return null;
    const rows = await this.q<AlertRow>(`SELECT * FROM chatpulse_alerts WHERE id = $1`, [id]);
    if (rows[0] === undefined) return null;
    const t = await this.q<{ alert_id: string; from_status: AlertStatus | null; to_status: AlertStatus; at: Date; by: string; note: string | null; instance_id: string }>(
      `SELECT * FROM chatpulse_alert_transitions WHERE alert_id = $1 ORDER BY id`,
      [id],
    );
    return {
      alert: toRecord(rows[0]),
      transitions: t.map((r) => ({ alertId: r.alert_id, from: r.from_status, to: r.to_status, at: r.at.toISOString(), by: r.by, note: r.note, instanceId: r.instance_id })),
    };
  }

  async list(q: AlertQuery): Promise<{ alerts: AlertRecord[]; total: number }> {
    const where = ['status = ANY($1)'];
    const params: unknown[] = [q.statuses];
    if (q.severities !== undefined) where.push(`severity = ANY($${params.push(q.severities)})`);
    if (q.categories !== undefined) where.push(`category = ANY($${params.push(q.categories)})`);
    if (q.sinceMs !== undefined) where.push(`updated_at >= $${params.push(new Date(q.sinceMs))}`);
    const w = where.join(' AND ');
    const rows = await this.q<AlertRow & { total: string }>(
      `SELECT *, count(*) OVER () AS total FROM chatpulse_alerts WHERE ${w}
        ORDER BY (status = 'resolved'), fired_at DESC, id LIMIT $${params.push(q.limit)} OFFSET $${params.push(q.offset)}`,
      params,
    );
    let total = rows[0] === undefined ? 0 : Number(rows[0].total);
    if (rows.length === 0 && q.offset > 0) {
      total = Number((await this.q<{ n: string }>(`SELECT count(*) AS n FROM chatpulse_alerts WHERE ${w}`, params.slice(0, -2)))[0]!.n);
    }
    return { alerts: rows.map(toRecord), total };
  }

  async active(): Promise<AlertRecord[]> {
    const rows = await this.q<AlertRow>(`SELECT * FROM chatpulse_alerts WHERE status <> 'resolved' ORDER BY fired_at DESC, id`);
    return rows.map(toRecord);
  }

  async alertCounts(sinceMs: number): Promise<{ open: AlertCounts; fired: AlertCounts }> {
    const rows = await this.q<{ open: boolean; severity: string; category: string; status: string; n: string }>(
      `SELECT true AS open, severity, category, status, count(*) AS n FROM chatpulse_alerts WHERE status <> 'resolved' GROUP BY 2, 3, 4
       UNION ALL
       SELECT false, severity, category, status, count(*) FROM chatpulse_alerts WHERE fired_at >= $1 GROUP BY 2, 3, 4`,
      [new Date(sinceMs)],
    );
    let open = emptyCounts();
    let fired = emptyCounts();
    for (const r of rows) {
      if (r.open) open = countInto(open, r, Number(r.n));
      else fired = countInto(fired, r, Number(r.n));
    }
    return { open, fired };
  }

  async observe(instanceId: string, observations: readonly { fingerprint: string; active: boolean }[], at: number): Promise<void> {
    if (observations.length === 0) return;
    await this.q(
      `INSERT INTO chatpulse_alert_observations (fingerprint, instance_id, active, observed_at)
       SELECT f, $2, a, $4 FROM unnest($1::text[], $3::boolean[]) AS t(f, a)
       ON CONFLICT (fingerprint, instance_id) DO UPDATE SET active = EXCLUDED.active, observed_at = EXCLUDED.observed_at`,
      [observations.map((o) => o.fingerprint), instanceId, observations.map((o) => o.active), new Date(at)],
    );
  }

  async withdraw(instanceId: string): Promise<void> {
    await this.q(`DELETE FROM chatpulse_alert_observations WHERE instance_id = $1`, [instanceId]);
  }

  async addErrorCounts(instanceId: string, errors: readonly ErrorCountRow[], latency: readonly LatencyRow[]): Promise<void> {
    if (errors.length === 0 && latency.length === 0) return;
    await this.tx(async (c) => {
      if (errors.length > 0) {
        await c.query(
          `INSERT INTO chatpulse_alert_error_buckets (bucket_ms, instance_id, category, level, source, count)
           SELECT b, $2, cat, lvl, src, n FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS t(b, cat, lvl, src, n)
           ON CONFLICT (bucket_ms, instance_id, category, level, source) DO UPDATE SET count = chatpulse_alert_error_buckets.count + EXCLUDED.count`,
          [errors.map((e) => e.bucket), instanceId, errors.map((e) => e.category), errors.map((e) => e.level), errors.map((e) => e.source), errors.map((e) => e.count)],
        );
      }
      if (latency.length > 0) {
        await c.query(
          `INSERT INTO chatpulse_alert_latency_buckets (bucket_ms, instance_id, responses, max_seconds)
           SELECT b, $2, n, m FROM unnest($1::bigint[], $3::bigint[], $4::float8[]) AS t(b, n, m)
           ON CONFLICT (bucket_ms, instance_id) DO UPDATE
             SET responses = chatpulse_alert_latency_buckets.responses + EXCLUDED.responses,
                 max_seconds = GREATEST(chatpulse_alert_latency_buckets.max_seconds, EXCLUDED.max_seconds)`,
          [latency.map((l) => l.bucket), instanceId, latency.map((l) => l.responses), latency.map((l) => l.maxSeconds)],
        );
      }
    });
  }

  async errorCounts(sinceMs: number): Promise<ErrorCountRow[]> {
    const rows = await this.q<{ bucket_ms: string; category: ErrorCountRow['category']; level: ErrorCountRow['level']; source: ErrorCountRow['source']; n: string }>(
      `SELECT bucket_ms, category, level, source, sum(count) AS n FROM chatpulse_alert_error_buckets
        WHERE bucket_ms >= $1 GROUP BY 1, 2, 3, 4 ORDER BY 1`,
      [sinceMs],
    );
    return rows.map((r) => ({ bucket: Number(r.bucket_ms), category: r.category, level: r.level, source: r.source, count: Number(r.n) }));
  }

  async latency(sinceMs: number): Promise<LatencyRow[]> {
    const rows = await this.q<{ bucket_ms: string; n: string; m: number }>(
      `SELECT bucket_ms, sum(responses) AS n, max(max_seconds) AS m FROM chatpulse_alert_latency_buckets WHERE bucket_ms >= $1 GROUP BY 1 ORDER BY 1`,
      [sinceMs],
    );
    return rows.map((r) => ({ bucket: Number(r.bucket_ms), responses: Number(r.n), maxSeconds: r.m }));
  }

  async claimNotifications(o: { instanceId: string; now: number; leaseMs: number; limit: number }): Promise<Notification[]> {
    if (o.limit <= 0) return [];
    const rows = await this.q<{ id: string; alert_id: string; event: 'fired' | 'resolved'; payload: AlertRecord; attempts: number; created_at: Date }>(
      `UPDATE chatpulse_alert_notifications SET lease_until = $2, leased_by = $3
        WHERE id IN (
          SELECT n.id FROM chatpulse_alert_notifications n
           WHERE n.status = 'pending' AND n.next_attempt_at <= $1 AND (n.lease_until IS NULL OR n.lease_until < $1)
             AND NOT EXISTS (SELECT 1 FROM chatpulse_alert_notifications p
                              WHERE p.alert_id = n.alert_id AND p.status = 'pending' AND p.id < n.id)
           ORDER BY n.id LIMIT $4
           FOR UPDATE SKIP LOCKED)
        RETURNING id, alert_id, event, payload, attempts, created_at`,
      [new Date(o.now), new Date(o.now + o.leaseMs), o.instanceId, o.limit],
    );
    return rows
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((r) => ({ id: String(r.id), alertId: r.alert_id, event: r.event, alert: r.payload, attempts: r.attempts, createdAt: r.created_at.getTime() }));
  }

  async notificationSent(id: string, at: number): Promise<void> {
    await this.q(`UPDATE chatpulse_alert_notifications SET status = 'sent', sent_at = $2, attempts = attempts + 1, lease_until = NULL WHERE id = $1`, [id, new Date(at)]);
  }

  async notificationRetry(id: string, nextAttemptAt: number, error: string): Promise<void> {
    await this.q(
      `UPDATE chatpulse_alert_notifications SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, lease_until = NULL WHERE id = $1 AND status = 'pending'`,
      [id, new Date(nextAttemptAt), error.slice(0, 500)],
    );
  }

  async notificationDead(id: string, error: string): Promise<void> {
    await this.q(`UPDATE chatpulse_alert_notifications SET status = 'dead', attempts = attempts + 1, last_error = $2, lease_until = NULL WHERE id = $1`, [id, error.slice(0, 500)]);
  }

  async notificationCounts(): Promise<{ pending: number; sent: number; dead: number }> {
    const rows = await this.q<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM chatpulse_alert_notifications GROUP BY 1`);
    const out = { pending: 0, sent: 0, dead: 0 };
    for (const r of rows) out[r.status as keyof typeof out] = Number(r.n);
    return out;
  }

  async trimNotifications(olderThan: number, maxQueue: number): Promise<number> {
    const rows = await this.q(
      `UPDATE chatpulse_alert_notifications SET status = 'dead', last_error = COALESCE(last_error || '; ', '') || 'given up: ' ||
              CASE WHEN created_at < $1 THEN 'too old' ELSE 'queue full' END
        WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now()) AND (created_at < $1 OR id IN (
          SELECT id FROM chatpulse_alert_notifications WHERE status = 'pending' ORDER BY id DESC OFFSET $2))
        RETURNING id`,
      [new Date(olderThan), maxQueue],
    );
    return rows.length;
  }

  async ruleOverrides(): Promise<RuleOverride[]> {
    const rows = await this.q<{ definition: unknown; updated_at: Date; updated_by: string }>(`SELECT definition, updated_at, updated_by FROM chatpulse_alert_rule_overrides ORDER BY rule_id`);
    return rows.map((r) => ({ definition: r.definition, updatedAt: r.updated_at.toISOString(), updatedBy: r.updated_by }));
  }

  async putRuleOverride(rule: Rule, by: string, at: number): Promise<void> {
    await this.q(
      `INSERT INTO chatpulse_alert_rule_overrides (rule_id, definition, updated_at, updated_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (rule_id) DO UPDATE SET definition = EXCLUDED.definition, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      [rule.id, JSON.stringify(ruleToInput(rule)), new Date(at), by],
    );
  }

  async prune(beforeMs: number): Promise<void> {
    const before = new Date(beforeMs);
    await this.q(`DELETE FROM chatpulse_alert_notifications WHERE status <> 'pending' AND created_at < $1`, [before]);
    await this.q(`DELETE FROM chatpulse_alerts WHERE status = 'resolved' AND resolved_at < $1`, [before]);
    await this.q(`DELETE FROM chatpulse_alert_observations WHERE observed_at < $1`, [before]);
    await this.q(`DELETE FROM chatpulse_alert_error_buckets WHERE bucket_ms < $1`, [beforeMs]);
    await this.q(`DELETE FROM chatpulse_alert_latency_buckets WHERE bucket_ms < $1`, [beforeMs]);
    await this.q(`DELETE FROM chatpulse_alert_applied WHERE applied_at < $1`, [before]);
  }
}
