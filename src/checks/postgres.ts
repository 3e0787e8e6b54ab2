import { HEALTH_APPLICATION_NAME } from '../../instrumentation/hooks/pg';
import { Pool, type PoolClient, type PoolConfig, type QueryConfig } from 'pg';
import type { PostgresConnection } from '../../instrumentation/discovery/registry';
import { abortable, deadline } from './abort';
import { ms, round } from './format';
import { checkOptions } from './options';
import { responseTimeCheck, responseTimeOutcome } from './response-time';
import { errorMessage, redactText, redactUrl, urlSecrets } from './redact';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

export interface PostgresCheckOptions {
  /** Check name. Default `database`. */
  readonly name?: string;
  /** Used to create the check's own small pool when `pool` is not given. */
  readonly connectionString?: string;
  /** The app's pool: the probe then measures what the app experiences, and its numbers are reported. */
  readonly pool?: Pool;
  /**
   * Connection parameters as an app's client had them (discovered in zero-code mode), for the
   * check's own pool; `ssl` is kept as is, so the probe connects as the app does.
   */
  readonly connection?: PostgresConnection;
  /** Default true: without its database a chatbot cannot load or save conversations. */
  readonly required?: boolean;
  /** Default 15000 ms. */
  readonly intervalMs?: number;
  /** Default 5000 ms: room for a TLS + SCRAM handshake to a remote managed database. */
  readonly timeoutMs?: number;
  /**
   * `SELECT 1` round trip above which the check warns. Default 500 ms: it is one network round
   * trip plus no work, single-digit ms even across zones, so 500 ms means the server or network is
   * in trouble, while staying above the GC pauses and event-loop stalls a busy Node process adds
   * to its own measurements.
   */
  readonly slowRoundTripMs?: number;
  /** Mean execution time from which a pg_stat_statements entry counts as slow. Default 500 ms. */
  readonly slowQueryMs?: number;
  /** How many slow statements to list. Default 5. */
  readonly slowQueryLimit?: number;
  /** Share of `max_connections` in use from which the check warns. Default 0.9. */
  readonly connectionsWarnRatio?: number;
}

export const POSTGRES_DEFAULTS = {
  name: 'database',
  required: true,
  intervalMs: 15_000,
  timeoutMs: 5_000,
  slowRoundTripMs: 500,
  slowQueryMs: 500,
  slowQueryLimit: 5,
  connectionsWarnRatio: 0.9,
} as const;

const QUERY_TEXT_MAX = 200;
/** Diagnostics may use this share of the timeout; what is left keeps the verdict on time. */
const DIAGNOSTICS_SHARE = 0.8;

/** One round trip for everything but the probe; same values as `SHOW server_version` etc. */
const DIAGNOSTICS_SQL = `
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('max_connections')::int AS max_connections,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS has_pss,
       (SELECT coalesce(json_object_agg(state, n), '{}'::json)
          FROM (SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n
                  FROM pg_stat_activity
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                 GROUP BY 1) s) AS by_state`;

/** Columns were renamed in PostgreSQL 13 (`mean_time` → `mean_exec_time`). */
function slowQueriesSql(versionNum: number): string {
  const [mean, total] = versionNum >= 130000 ? ['mean_exec_time', 'total_exec_time'] : ['mean_time', 'total_time'];
  return `
SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), ${QUERY_TEXT_MAX + 1}) AS query,
       calls::float8 AS calls,
       ${mean}::float8 AS mean_ms,
       ${total}::float8 AS total_ms,
       count(*) OVER ()::int AS slow_count
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ${mean} >= $1
 ORDER BY ${mean} DESC
 LIMIT $2`;
}

interface PoolNumbers {
  readonly source: 'app' | 'dedicated';
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number | undefined;
}

interface DiagnosticsRow {
  version: string;
  version_num: number;
  max_connections: number;
  has_pss: boolean;
  by_state: Record<string, number>;
}

interface SlowRow {
  query: string;
  calls: number;
  mean_ms: number;
  total_ms: number;
  slow_count: number;
}

/**
 * Postgres connectivity, round trip, version, pool saturation, server connections by state and,
 * where pg_stat_statements is installed, the slowest statements. Nothing in the result carries
 * the password: the target and every message are redacted.
 */
export function postgresCheck(options: PostgresCheckOptions): DependencyCheck {
  if (options.pool === undefined && options.connectionString === undefined && options.connection === undefined) {
    throw new TypeError('postgresCheck: give a connectionString or a pool (or the connection parameters)');
  }
  const o = checkOptions('postgresCheck', POSTGRES_DEFAULTS, options);
  const appPool = options.pool;
  const secrets = [
    ...urlSecrets(options.connectionString),
    ...urlSecrets(appPool?.options.connectionString),
    ...(typeof appPool?.options.password === 'string' ? [appPool.options.password] : []),
    ...(typeof options.connection?.password === 'string' ? [options.connection.password] : []),
  ];
  const target = describeTarget(options);
  let ownPool: Pool | undefined;
  let lastPoolError: string | undefined;

  // Created on the first run, so constructing the check opens nothing.
  function pool(): Pool {
    if (appPool !== undefined) return appPool;
    if (ownPool === undefined) {
      const c = options.connection;
      ownPool = new Pool({
        ...(c !== undefined
          ? { host: c.host, port: c.port, user: c.user, password: c.password as PoolConfig['password'], database: c.database, ssl: c.ssl as PoolConfig['ssl'] }
          : { connectionString: options.connectionString }),
        // Runs never overlap, so one connection is enough; it is kept between runs so a probe
        // every interval does not fork a backend (and log a connection) each time.
        max: 1,
        idleTimeoutMillis: o.intervalMs * 2 + o.timeoutMs,
        allowExitOnIdle: true,
        connectionTimeoutMillis: o.timeoutMs,
        statement_timeout: o.timeoutMs,
        query_timeout: o.timeoutMs,
        application_name: HEALTH_APPLICATION_NAME,
        keepAlive: true,
      });
      // An idle connection dropped by the server must not become an unhandled 'error' event.
      ownPool.on('error', (err) => {
        lastPoolError = errorMessage(err, secrets);
      });
    }
    return ownPool;
  }

  async function run(parent: AbortSignal): Promise<CheckOutcome> {
    const dl = deadline(parent, o.timeoutMs);
    const { signal } = dl;
    const p = pool();
    // Sampled before our own acquire, so the probe does not count itself.
    const poolNumbers: PoolNumbers = {
      source: appPool !== undefined ? 'app' : 'dedicated',
      total: p.totalCount,
      idle: p.idleCount,
      waiting: p.waitingCount,
      max: p.options.max,
    };
    const base = { measurement: 'responseTime', unit: 'ms', threshold: `≤${o.slowRoundTripMs}ms` } as const;
    const failed = (message: string, extra: Record<string, unknown> = {}): CheckOutcome => ({
      ...base,
      status: 'fail',
      message,
      details: { target, connectionStatus: 'disconnected', pool: poolNumbers, ...extra },
    });

    let client: PoolClient | undefined;
    let broken = false;
    const onClientError = (): void => {
      broken = true;
    };
    try {
      const t0 = performance.now();
      try {
        client = await acquire(p, signal);
      } catch (err) {
        const why = errorMessage(err, secrets);
        const saturated = appPool !== undefined && poolNumbers.max !== undefined && poolNumbers.total >= poolNumbers.max;
        return failed(
          saturated
            ? `no pool connection within ${Math.round(performance.now() - t0)} ms: ${poolNumbers.total} of ${poolNumbers.max} in use, ${poolNumbers.waiting} waiting (${why})`
            : `cannot connect: ${why}`,
          lastPoolError !== undefined ? { lastPoolError } : {},
        );
      }
      client.on('error', onClientError);
      const acquireMs = performance.now() - t0;

      const t1 = performance.now();
      try {
        await query(client, 'SELECT 1', [], dl.remaining(), signal);
      } catch (err) {
        broken = true;
        return failed(`SELECT 1 failed: ${errorMessage(err, secrets)}`, { acquireMs: round(acquireMs) });
      }
      const roundTripMs = performance.now() - t1;

      const budgetEnd = t0 + o.timeoutMs * DIAGNOSTICS_SHARE;
      const budget = (): number => Math.max(1, budgetEnd - performance.now());
      const diag = await diagnostics(client, budget, signal, onClientError).catch((err: unknown) => {
        broken = true;
        return { error: errorMessage(err, secrets) } as const;
      });

      const issues: string[] = [];
      let status: CheckStatus = 'pass';
      if (roundTripMs > o.slowRoundTripMs) {
        status = 'warn';
        issues.push(`round trip ${ms(roundTripMs)} > ${o.slowRoundTripMs}ms`);
      }
      if (poolNumbers.waiting > 0) {
        status = 'warn';
        issues.push(
          `pool saturated: ${poolNumbers.waiting} waiting for a connection (${poolNumbers.total} of ${poolNumbers.max ?? '?'} in use)`,
        );
      }
      const details: Record<string, unknown> = {
        target,
        connectionStatus: 'connected',
        roundTripMs: round(roundTripMs),
        acquireMs: round(acquireMs),
        pool: poolNumbers,
      };
      if ('error' in diag) {
        details.diagnosticsError = diag.error;
      } else {
        const total = Object.values(diag.row.by_state).reduce((a, b) => a + b, 0);
        details.version = `PostgreSQL ${diag.row.version.split(' ')[0]}`;
        details.serverVersion = diag.row.version;
        details.activeConnections = diag.row.by_state.active ?? 0;
        details.connections = { total, max: diag.row.max_connections, byState: diag.row.by_state };
        details.slowQueries = diag.slow;
        // Our own connection is excluded from `total`, so count it back for the server-wide limit.
        if ((total + 1) / diag.row.max_connections >= o.connectionsWarnRatio) {
          status = 'warn';
          issues.push(`${total + 1} of ${diag.row.max_connections} server connections in use`);
        }
      }
      // Connected again: an old idle-connection error no longer explains anything.
      lastPoolError = undefined;
      return responseTimeOutcome(base, status, roundTripMs, issues, details);
    } finally {
      if (client !== undefined) {
        client.removeListener('error', onClientError);
        // A connection that timed out or errored may still be busy or half-broken: destroy it.
        client.release(broken || signal.aborted);
      }
      dl.dispose();
    }
  }

  /** Version, connections and slow statements; failures here are reported, never graded. */
  async function diagnostics(client: PoolClient, budget: () => number, signal: AbortSignal, markBroken: () => void) {
    const res = await query<DiagnosticsRow>(client, DIAGNOSTICS_SQL, [], budget(), signal);
    const row = res[0];
    if (row === undefined) throw new Error('diagnostics query returned no row');
    let slow: Record<string, unknown>;
    if (!row.has_pss) {
      slow = { available: false, reason: 'pg_stat_statements extension is not installed in this database' };
    } else {
      try {
        const rows = await query<SlowRow>(
          client,
          slowQueriesSql(row.version_num),
          [o.slowQueryMs, o.slowQueryLimit],
          budget(),
          signal,
        );
        slow = {
          available: true,
          thresholdMs: o.slowQueryMs,
          count: rows[0]?.slow_count ?? 0,
          top: rows.map((r) => ({
            query: truncate(redactText(r.query, secrets)),
            calls: r.calls,
            meanMs: round(r.mean_ms),
            totalMs: round(r.total_ms),
          })),
        };
      } catch (err) {
        if (signal.aborted) throw err;
        const code = (err as { code?: unknown }).code;
        // 55000: created but not in shared_preload_libraries; 42501: not allowed to read it.
        const reason =
          code === '55000'
            ? 'pg_stat_statements is installed but not loaded (add it to shared_preload_libraries)'
            : code === '42501'
              ? 'not permitted to read pg_stat_statements (grant pg_read_all_stats)'
              : errorMessage(err, secrets);
        slow = { available: false, reason };
        // A server error leaves the connection usable; a client-side timeout does not.
        if (typeof code !== 'string') markBroken();
      }
    }
    return { row, slow };
  }

  return responseTimeCheck(o, 'database', run, async () => {
    const p = ownPool;
    ownPool = undefined;
    // The app's pool belongs to the app; only our own is ended.
    if (p !== undefined) await p.end();
  });
}

/** pool.connect() bounded by the signal; a client that arrives after we gave up is handed back. */
async function acquire(pool: Pool, signal: AbortSignal): Promise<PoolClient> {
  const pending = pool.connect();
  try {
    return await abortable(pending, signal);
  } catch (err) {
    // Never used by us, so healthy: back to the pool rather than destroyed.
    pending.then(
      (c) => c.release(),
      () => {},
    );
    throw err;
  }
}

/**
 * A query bounded twice: `query_timeout` makes pg give up client-side (also for the app's pool,
 * whose sessions we must not reconfigure), the signal makes us give up at the check's deadline.
 */
async function query<R>(client: PoolClient, text: string, values: unknown[], timeoutMs: number, signal: AbortSignal): Promise<R[]> {
  const config = { text, values, query_timeout: Math.max(1, Math.floor(timeoutMs)) } as QueryConfig;
  const res = await abortable(client.query(config), signal);
  return res.rows as R[];
}

function describeTarget(options: PostgresCheckOptions): string {
  if (options.connectionString !== undefined) return redactUrl(options.connectionString);
  const c = options.connection;
  if (c !== undefined) return `postgres://${c.user !== undefined ? `${c.user}@` : ''}${c.host}:${c.port}/${c.database ?? ''}`;
  const po = options.pool?.options;
  if (po?.connectionString !== undefined) return redactUrl(po.connectionString);
  const user = po?.user !== undefined ? `${po.user}@` : '';
  const host = po?.host ?? process.env.PGHOST ?? 'localhost';
  const port = po?.port ?? process.env.PGPORT ?? 5432;
  const db = po?.database ?? process.env.PGDATABASE ?? '';
  return `postgres://${user}${host}:${port}/${db}`;
}

function truncate(s: string): string {
  return s.length > QUERY_TEXT_MAX ? `${s.slice(0, QUERY_TEXT_MAX)}…` : s;
}
