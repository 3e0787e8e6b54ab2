import { Pool, type PoolClient } from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgresCheck } from '../../../src/checks/postgres';
import { CheckScheduler } from '../../../src/checks/scheduler';
import type { CheckResult, DependencyCheck } from '../../../src/checks/types';
import { HungServer, closedPort } from '../../helpers/net';
import { sleep, tcpSockets, waitFor } from './wait';

const URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const checks: DependencyCheck[] = [];
function keep(c: DependencyCheck): DependencyCheck {
  checks.push(c);
  return c;
}
const run = (c: DependencyCheck) => c.run(new AbortController().signal);
afterEach(async () => {
  await Promise.all(checks.splice(0).map((c) => c.close?.()));
});

interface PgDetails {
  target: string;
  connectionStatus: string;
  version: string;
  roundTripMs: number;
  acquireMs: number;
  activeConnections: number;
  pool: { source: string; total: number; idle: number; waiting: number; max: number };
  connections: { total: number; max: number; byState: Record<string, number> };
  slowQueries: { available: boolean; reason?: string; top?: unknown[] };
}
const details = (r: { details?: unknown }) => r.details as PgDetails;

describe('postgresCheck', () => {
  const appPools: Pool[] = [];
  afterAll(async () => {
    await Promise.all(appPools.map((p) => p.end()));
  });

  it('passes against a healthy Postgres with version, pool numbers and connections by state', async () => {
    // Another session in a known state, so the counts have something to show.
    const other = new Pool({ connectionString: URL, max: 1 });
    appPools.push(other);
    const held = await other.connect();
    await held.query('BEGIN');
    try {
      const c = keep(postgresCheck({ connectionString: URL }));
      expect(c).toMatchObject({ name: 'database', component: 'database', required: true, intervalMs: 15_000, timeoutMs: 5_000 });
      const r = await run(c);
      expect(r).toMatchObject({ status: 'pass', measurement: 'responseTime', unit: 'ms', threshold: '≤500ms' });
      expect(r.message).toBeUndefined();
      const d = details(r);
      expect(d.target).toBe(URL);
      expect(d.connectionStatus).toBe('connected');
      expect(d.version).toMatch(/^PostgreSQL \d+\.\d+/);
      expect(r.value).toBe(d.roundTripMs);
      expect(d.roundTripMs).toBeGreaterThan(0);
      expect(d.pool).toEqual({ source: 'dedicated', total: 0, idle: 0, waiting: 0, max: 1 });
      expect(d.connections.max).toBeGreaterThan(0);
      expect(d.connections.byState['idle in transaction']).toBeGreaterThanOrEqual(1);
      expect(d.connections.total).toBe(Object.values(d.connections.byState).reduce((a, b) => a + b, 0));
      expect(typeof d.activeConnections).toBe('number');
      // This server may or may not have pg_stat_statements; either way it is reported, not failed.
      if (d.slowQueries.available) expect(Array.isArray(d.slowQueries.top)).toBe(true);
      else expect(d.slowQueries.reason).toMatch(/pg_stat_statements/);

      // The dedicated connection is kept between runs.
      const again = await run(c);
      expect(details(again).pool).toMatchObject({ total: 1, idle: 1, waiting: 0 });
    } finally {
      await held.query('ROLLBACK');
      held.release();
    }
  });

  it("reports the app's pool and warns when requests wait for a connection", async () => {
    const app = new Pool({ connectionString: URL, max: 1 });
    appPools.push(app);
    const c = keep(postgresCheck({ pool: app, timeoutMs: 2000 }));
    const ok = await run(c);
    expect(ok.status).toBe('pass');
    expect(details(ok).pool).toMatchObject({ source: 'app', max: 1, waiting: 0 });

    // Saturated: the only connection is busy and an app query is queued behind it.
    const busy = await app.connect();
    const queued = app.query('SELECT 1');
    setTimeout(() => busy.release(), 100);
    const r = await run(c);
    await queued;
    expect(r.status).toBe('warn');
    expect(r.message).toBe('pool saturated: 1 waiting for a connection (1 of 1 in use)');
    expect(details(r).pool).toMatchObject({ total: 1, idle: 0, waiting: 1 });
    await c.close!(); // must not end the app's pool
    expect((await app.query('SELECT 2 AS n')).rows[0].n).toBe(2);
  });

  it("fails when the app's pool has no connection to spare within the timeout, and hands the late one back", async () => {
    const app = new Pool({ connectionString: URL, max: 1 });
    appPools.push(app);
    const busy: PoolClient = await app.connect();
    const c = keep(postgresCheck({ pool: app, timeoutMs: 300 }));
    const t0 = performance.now();
    const r = await run(c);
    expect(performance.now() - t0).toBeLessThan(600);
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^no pool connection within \d+ ms: 1 of 1 in use, 0 waiting \(timed out after 300 ms\)$/);
    busy.release();
    // The connection the probe no longer wanted goes back to the pool, healthy.
    await waitFor(() => app.idleCount === 1 && app.waitingCount === 0, 1000, 'connection handed back');
    expect(app.totalCount).toBe(1);
  });

  it('fails fast on a closed port (connection refused)', async () => {
    const port = await closedPort();
    const t0 = performance.now();
    const r = await run(keep(postgresCheck({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` })));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r.status).toBe('fail');
    expect(r.message).toBe(`cannot connect: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(details(r).connectionStatus).toBe('disconnected');
  });

  it('fails within its timeout on a hung server while results() answers at once, leaving no socket behind', async () => {
    const hung = await new HungServer(false).listen();
    const sockets = tcpSockets();
    const c = postgresCheck({ connectionString: `postgres://postgres:S3cretPass@127.0.0.1:${hung.port}/postgres`, timeoutMs: 700 });
    const s = new CheckScheduler([c], { stopTimeoutMs: 1000 });
    try {
      const t0 = performance.now();
      s.start();
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        expect(s.results()[0]).toMatchObject({ status: 'warn', message: 'not checked yet' });
        expect(performance.now() - t).toBeLessThan(5);
        await sleep(50);
      }
      const r = await waitFor(() => s.result('database')?.status === 'fail' && s.result('database'), 2000, 'fail');
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(690);
      expect(elapsed).toBeLessThan(700 + 400);
      expect(r.message).toMatch(/timed out after 700 ms|timeout/);
      expect(JSON.stringify(r)).not.toContain('S3cretPass');
      await waitFor(() => tcpSockets() <= sockets + hung.open, 500, 'client socket released');
    } finally {
      await s.stop();
      await hung.close();
    }
  });

  it('never leaks the password from the connection string into any result', async () => {
    const conn = 'postgres://postgres:S3cretPass@127.0.0.1:1/postgres';
    const c = keep(postgresCheck({ connectionString: conn }));
    const s = new CheckScheduler([c]);
    const results: CheckResult[] = [await s.runNow('database')];
    results.push(...s.results());
    await s.stop();
    expect(results[0]!.status).toBe('fail');
    expect(details(results[0]!).target).toBe('postgres://postgres:***@127.0.0.1:1/postgres');
    expect(JSON.stringify({ results, c })).not.toContain('S3cretPass');
    // The healthy path too: trust auth ignores the password, which must still not appear.
    const ok = await run(keep(postgresCheck({ connectionString: 'postgres://postgres:S3cretPass@127.0.0.1:5432/postgres' })));
    expect(ok.status).toBe('pass');
    expect(JSON.stringify(ok)).not.toContain('S3cretPass');
    // An app pool configured with a password object.
    const app = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', password: 'S3cretPass', database: 'postgres', max: 1 });
    appPools.push(app);
    const viaPool = await run(keep(postgresCheck({ pool: app })));
    expect(details(viaPool).target).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(JSON.stringify(viaPool)).not.toContain('S3cretPass');
  });

  it('rejects missing targets and bad durations at construction', () => {
    expect(() => postgresCheck({})).toThrow(/connectionString or a pool/);
    expect(() => postgresCheck({ connectionString: URL, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
