import type { Pool } from 'pg';

/**
 * Schema migrations of the alert store. Applied at start, in order, each in its own transaction
 * holding a transaction-level advisory lock, so replicas starting together apply each migration
 * exactly once and the others wait, then see it recorded. Every statement is idempotent as well
 * (`IF NOT EXISTS`), so a migration interrupted half-way re-runs cleanly.
 *
 * Tables (all prefixed `chatpulse_alert`, in the pool's first search_path schema):
 * - `chatpulse_alerts`: one row per alert, history included; a unique partial index allows only
 *   one open alert per fingerprint, which makes firing idempotent across replicas.
 * - `chatpulse_alert_transitions`: every status change: who, when, note.
 * - `chatpulse_alert_notifications`: the webhook outbox (pending → sent | dead), leased by one
 *   replica at a time.
 * - `chatpulse_alert_observations`: each replica's last view of each condition (resolve vote).
 * - `chatpulse_alert_error_buckets`, `chatpulse_alert_latency_buckets`: tracked errors and the
 *   slowest response per 10 s bucket and replica, for rule windows and statistics.
 * - `chatpulse_alert_rule_overrides`: rules replaced through the API.
 * - `chatpulse_alert_applied`: idempotency keys of changes accepted while the store was down
 *   (spool.ts), recorded with the change so a replay never applies it twice.
 * - `chatpulse_alert_migrations`: applied versions.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'alerts, transitions, notifications, observations, error buckets, rule overrides',
    sql: `
CREATE TABLE IF NOT EXISTS chatpulse_alerts (
  id              uuid PRIMARY KEY,
  fingerprint     text NOT NULL,
  rule_id         text NOT NULL,
  origin          text NOT NULL CHECK (origin IN ('rule', 'alertmanager')),
  severity        text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
  category        text NOT NULL,
  title           text NOT NULL,
  description     text NOT NULL DEFAULT '',
  labels          jsonb NOT NULL DEFAULT '{}'::jsonb,
  value           double precision,
  status          text NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
  fired_at        timestamptz NOT NULL,
  last_seen_at    timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at     timestamptz,
  resolved_by     text,
  resolution      text,
  note            text,
  instance_id     text NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chatpulse_alerts_open_fingerprint ON chatpulse_alerts (fingerprint) WHERE status <> 'resolved';
CREATE INDEX IF NOT EXISTS chatpulse_alerts_updated_at ON chatpulse_alerts (updated_at DESC, id);
CREATE INDEX IF NOT EXISTS chatpulse_alerts_fired_at ON chatpulse_alerts (fired_at DESC);

CREATE TABLE IF NOT EXISTS chatpulse_alert_transitions (
  id          bigserial PRIMARY KEY,
  alert_id    uuid NOT NULL REFERENCES chatpulse_alerts (id) ON DELETE CASCADE,
  from_status text,
  to_status   text NOT NULL,
  at          timestamptz NOT NULL,
  by          text NOT NULL,
  note        text,
  instance_id text NOT NULL
);
CREATE INDEX IF NOT EXISTS chatpulse_alert_transitions_alert ON chatpulse_alert_transitions (alert_id, id);

CREATE TABLE IF NOT EXISTS chatpulse_alert_notifications (
  id              bigserial PRIMARY KEY,
  alert_id        uuid NOT NULL REFERENCES chatpulse_alerts (id) ON DELETE CASCADE,
  event           text NOT NULL CHECK (event IN ('fired', 'resolved')),
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  lease_until     timestamptz,
  leased_by       text,
  last_error      text,
  sent_at         timestamptz
);
CREATE INDEX IF NOT EXISTS chatpulse_alert_notifications_due ON chatpulse_alert_notifications (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS chatpulse_alert_notifications_alert ON chatpulse_alert_notifications (alert_id, id) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS chatpulse_alert_observations (
  fingerprint text NOT NULL,
  instance_id text NOT NULL,
  active      boolean NOT NULL,
  observed_at timestamptz NOT NULL,
  PRIMARY KEY (fingerprint, instance_id)
);

CREATE TABLE IF NOT EXISTS chatpulse_alert_error_buckets (
  bucket_ms   bigint NOT NULL,
  instance_id text NOT NULL,
  category    text NOT NULL,
  level       text NOT NULL,
  source      text NOT NULL,
  count       bigint NOT NULL,
  PRIMARY KEY (bucket_ms, instance_id, category, level, source)
);

CREATE TABLE IF NOT EXISTS chatpulse_alert_latency_buckets (
  bucket_ms   bigint NOT NULL,
  instance_id text NOT NULL,
  responses   bigint NOT NULL,
  max_seconds double precision NOT NULL,
  PRIMARY KEY (bucket_ms, instance_id)
);

CREATE TABLE IF NOT EXISTS chatpulse_alert_rule_overrides (
  rule_id    text PRIMARY KEY,
  definition jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL
);`,
  },
  {
    version: 2,
    name: 'idempotency keys of spooled changes',
    sql: `
CREATE TABLE IF NOT EXISTS chatpulse_alert_applied (
  key        text PRIMARY KEY,
  applied_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS chatpulse_alert_applied_at ON chatpulse_alert_applied (applied_at);`,
  },
]);

/** Advisory lock key: the same for every replica of every version, distinct per schema. */
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('chatpulse_alerts:migrations:' || $1))`;

/**
 * Applies the migrations not yet recorded. `schema`, when given, is created first (under the same
 * lock) and must already be the pool's search_path.
 */
export async function migrate(pool: Pool, schema: string | undefined): Promise<number[]> {
  const applied: number[] = [];
  const client = await pool.connect();
  // A checked-out client emits 'error' when its connection dies (the pool only listens to idle
  // ones); unhandled, that would crash the host app. The failing query rejects anyway.
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on('error', onError);
  try {
    for (const m of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        await client.query(LOCK_SQL, [schema ?? '']);
        if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(`CREATE TABLE IF NOT EXISTS chatpulse_alert_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now())`);
        const done = await client.query('SELECT 1 FROM chatpulse_alert_migrations WHERE version = $1', [m.version]);
        if (done.rowCount === 0) {
          await client.query(m.sql);
          await client.query('INSERT INTO chatpulse_alert_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          applied.push(m.version);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    client.removeListener('error', onError);
    client.release(lost ? true : undefined);
  }
  return applied;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
