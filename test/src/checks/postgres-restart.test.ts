import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresCheck } from '../../../src/checks/postgres';
import { CheckScheduler, type StatusChange } from '../../../src/checks/scheduler';
import { TempCluster, postgresBinDir } from '../../helpers/pg-cluster';
import { waitFor } from './wait';

const PASSWORD = 'S3cretPass';
const INTERVAL = 300;
const TIMEOUT = 1000;
let cluster: TempCluster;
let scheduler: CheckScheduler | undefined;

beforeAll(async () => {
  cluster = await TempCluster.create(PASSWORD);
  await cluster.start();
  // Give pg_stat_statements something slow to report.
  const client = new Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION pg_stat_statements');
    for (let i = 0; i < 3; i++) await client.query('SELECT pg_sleep(0.03)');
    await client.query("ALTER ROLE postgres PASSWORD 'S3cretPass'");
  } finally {
    await client.end();
  }
}, 40_000);

afterAll(async () => {
  await scheduler?.stop();
  await cluster?.destroy();
}, 30_000);

describe.skipIf(postgresBinDir() === undefined)('postgresCheck against its own Postgres cluster', () => {
  it('reports slow statements from pg_stat_statements, with literals redacted', async () => {
    const c = postgresCheck({ connectionString: cluster.url, slowQueryMs: 10 });
    try {
      const r = await c.run(new AbortController().signal);
      expect(r.status).toBe('pass');
      const slow = (r.details as { slowQueries: { available: boolean; count: number; thresholdMs: number; top: { query: string; calls: number; meanMs: number }[] } })
        .slowQueries;
      expect(slow).toMatchObject({ available: true, thresholdMs: 10 });
      expect(slow.count).toBeGreaterThanOrEqual(1);
      const sleep = slow.top.find((q) => q.query.includes('pg_sleep'));
      expect(sleep).toMatchObject({ query: 'SELECT pg_sleep($1)', calls: 3 });
      expect(sleep!.meanMs).toBeGreaterThanOrEqual(25);
      expect(JSON.stringify(r)).not.toContain(PASSWORD);
    } finally {
      await c.close!();
    }
  });

  it('masks the password of an ALTER ROLE that pg_stat_statements kept verbatim', async () => {
    const c = postgresCheck({ connectionString: cluster.url, slowQueryMs: 0, slowQueryLimit: 1000 });
    try {
      const r = await c.run(new AbortController().signal);
      const top = (r.details as { slowQueries: { top: { query: string }[] } }).slowQueries.top;
      const alter = top.find((q) => /ALTER ROLE/i.test(q.query));
      expect(alter).toBeDefined();
      expect(alter!.query).toMatch(/PASSWORD ('\*\*\*'|\$1)/);
      expect(JSON.stringify(r)).not.toContain(PASSWORD);
    } finally {
      await c.close!();
    }
  });

  it('says a wrong password failed without echoing it', async () => {
    const c = postgresCheck({ connectionString: `postgres://postgres:WrongPass123@127.0.0.1:${cluster.port}/postgres` });
    try {
      const r = await c.run(new AbortController().signal);
      expect(r.status).toBe('fail');
      expect(r.message).toBe('cannot connect: password authentication failed for user "postgres" (28P01)');
      expect(JSON.stringify(r)).not.toMatch(/WrongPass123|S3cretPass/);
    } finally {
      await c.close!();
    }
  });

  it('fails when Postgres stops, within interval + timeout, and recovers when it starts again', async () => {
    const changes: StatusChange[] = [];
    scheduler = new CheckScheduler([postgresCheck({ connectionString: cluster.url, intervalMs: INTERVAL, timeoutMs: TIMEOUT })]);
    scheduler.onChange((c) => changes.push(c));
    scheduler.start();
    await waitFor(() => scheduler!.result('database')?.status === 'pass', 5000, 'pass');

    await cluster.stop();
    const stoppedAt = performance.now();
    const down = await waitFor(() => scheduler!.result('database')?.status === 'fail' && scheduler!.result('database'), INTERVAL + TIMEOUT + 1000, 'fail');
    expect(performance.now() - stoppedAt).toBeLessThan(INTERVAL + TIMEOUT + 500);
    expect(down.message).toMatch(/^cannot connect: .*ECONNREFUSED|^SELECT 1 failed/);
    expect(JSON.stringify(down)).not.toContain(PASSWORD);

    await cluster.start();
    const startedAt = performance.now();
    await waitFor(() => scheduler!.result('database')?.status === 'pass', INTERVAL + TIMEOUT + 1000, 'recovery');
    expect(performance.now() - startedAt).toBeLessThan(INTERVAL + TIMEOUT + 500);
    expect(changes.map((c) => `${c.previous.status}->${c.current.status}`)).toEqual(['warn->pass', 'pass->fail', 'fail->pass']);
    await scheduler.stop();
  });
});
