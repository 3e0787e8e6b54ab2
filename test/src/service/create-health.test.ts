import { afterAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { createHealth, HealthConfigError, type Health } from '../../../index';
import { Cluster } from 'ioredis';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { TempRedisCluster } from '../../helpers/redis-cluster';

/** Mounted mode: the app builds the health service and mounts its router in its own Express app. */
describe('createHealth mounted in the app', () => {
  let health: Health | undefined;
  let server: http.Server | undefined;
  const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', max: 2 });

  afterAll(async () => {
    server?.close();
    await health?.close();
    await pool.end();
  });

  it('serves the health endpoints from the app’s own server, probing the app’s own pg pool', async () => {
    const recorder = new Recorder();
    health = await createHealth({
      env: {},
      pgPool: pool,
      recorder,
      serviceName: 'mounted-test',
      config: { minSamples: 1, hysteresis: 1, evaluationInterval: '100ms', rateLimits: { '/api/v1/health': false } },
    });
    const app = express();
    app.get('/', (_req, res) => void res.send('chat app'));
    app.use(health.router);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server!.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await health.scheduler.runNow('database');
    const route = recorder.route('/chat');
    for (let i = 0; i < 5; i++) recorder.firstToken(route, 0.3);
    await health.service.evaluate();
    const body = (await (await fetch(`${base}/api/v1/health`)).json()) as { status: string; service: string; services: Record<string, { status: string }> };
    expect(body.service).toBe('mounted-test');
    expect(body.status).toBe('healthy');
    expect(body.services.database!.status).toBe('healthy');
    const db = (await (await fetch(`${base}/api/v1/health/database?details=true`)).json()) as { details: { pool: { total: number } } };
    // The check probed the app's pool (not a pool of its own).
    expect(db.details.pool.total).toEqual(expect.any(Number));
    expect(pool.totalCount).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${base}/api/v1/health/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toBe('chat app');
  });

  it('rejects an invalid configuration at creation, naming the field', async () => {
    await expect(createHealth({ env: {}, config: { window: 'soon' } })).rejects.toThrow(HealthConfigError);
    await expect(createHealth({ env: { CHATPULSE_ALERT_INTERVAL: 'often' } })).rejects.toThrow(/CHATPULSE_ALERT_INTERVAL/);
  });
});

describe('createHealth with a Redis Cluster', () => {
  let cluster: TempRedisCluster | undefined;
  const open: { health: Health; server: http.Server }[] = [];

  afterAll(async () => {
    for (const { health, server } of open) {
      server.close();
      await health.close();
    }
    cluster?.stop();
  });

  async function serve(options: Parameters<typeof createHealth>[0]): Promise<{ health: Health; base: string }> {
    const health = await createHealth({ recorder: new Recorder(), ...options });
    const app = express();
    app.use(health.router);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    open.push({ health, server });
    return { health, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('checks the cluster named by REDIS_CLUSTER_NODES, or the app’s own cluster client (also from another ioredis copy)', async () => {
    cluster = await TempRedisCluster.start();
    const nodes = cluster.ports.map((p) => `redis://127.0.0.1:${p}`);
    const app = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    // ioredis 5 (the devDependency alias): an app whose ioredis is not the copy Chatpulse imports.
    const { Cluster: Cluster5 } = (await import('ioredis5')) as unknown as { Cluster: typeof Cluster };
    const app5 = new Cluster5([{ host: '127.0.0.1', port: cluster.ports[1]! }]);
    try {
      await app.ping();
      await app5.ping();
      for (const [options, target] of [
        [{ env: { REDIS_CLUSTER_NODES: nodes.join(',') } }, nodes.join(',')],
        [{ env: {}, redisClient: app }, 'app cluster client'],
        [{ env: {}, redisClient: app5 }, 'app cluster client'],
      ] as const) {
        const { health, base } = await serve({ ...options, config: { rateLimits: { '/api/v1/health/redis': false } } });
        await health.scheduler.runNow('redis');
        const res = await fetch(`${base}/api/v1/health/redis?details=true`);
        const body = (await res.json()) as { status: string; details: Record<string, unknown> };
        expect(res.status).toBe(200);
        expect(body.details).toMatchObject({ target, clusterState: 'ok', masters: 3 });
      }
      expect(app.status).toBe('ready');
      expect(app5.status).toBe('ready');
    } finally {
      app.disconnect();
      app5.disconnect();
    }
  }, 60_000);
});
