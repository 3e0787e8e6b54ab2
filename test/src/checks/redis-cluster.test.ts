import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterMasters, redisClusterCheck } from '../../../src/checks/redis-cluster';
import type { DependencyCheck } from '../../../src/checks/types';
import { closedPort } from '../../helpers/net';
import { TempRedisCluster } from '../../helpers/redis-cluster';
import { waitFor } from './wait';

let cluster: TempRedisCluster;
let seed: string;
const checks: DependencyCheck[] = [];
const keep = (c: DependencyCheck) => (checks.push(c), c);
const run = (c: DependencyCheck) => c.run(new AbortController().signal);

const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  cluster = await TempRedisCluster.start();
  seed = `redis://127.0.0.1:${cluster.ports[0]}`;
}, 60_000);
afterEach(async () => {
  await Promise.all(checks.splice(0).map((c) => c.close?.()));
});
afterAll(() => {
  process.off('uncaughtException', onUncaught);
  cluster?.stop();
  expect(uncaught).toEqual([]);
});

describe('parseClusterMasters', () => {
  it('reads address, flags, link state and served slots of masters only', () => {
    const text = [
      'a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460',
      'b2 10.0.0.2:6379@16379,host-b master,fail - 0 0 2 disconnected 5461-10922 [10923->-c3]',
      'c3 10.0.0.3:6379@16379 master - 0 0 3 connected 10923-16383 42',
      'd4 10.0.0.4:6379@16379 slave a1 0 0 1 connected',
      '',
    ].join('\n');
    expect(parseClusterMasters(text)).toEqual([
      { address: '10.0.0.1:6379', flags: 'myself,master', linkState: 'connected', slots: 5461 },
      { address: '10.0.0.2:6379', flags: 'master,fail', linkState: 'disconnected', slots: 5462 },
      { address: '10.0.0.3:6379', flags: 'master', linkState: 'connected', slots: 5462 },
    ]);
  });
});

describe('redisClusterCheck', () => {
  it('says what it needs at construction', () => {
    expect(() => redisClusterCheck({})).toThrow(/redisClusterCheck: give nodes/);
    expect(() => redisClusterCheck({ nodes: [seed], timeoutMs: 0 })).toThrow(/redisClusterCheck: timeoutMs must be a positive number/);
  });

  it('passes against a healthy cluster from one seed: every master pinged, cluster_state ok, a write round trip, memory per master', async () => {
    const c = keep(redisClusterCheck({ nodes: [seed] }));
    expect(c).toMatchObject({ name: 'redis', component: 'redis', required: true });
    const r = await run(c);
    expect(r.message).toBeUndefined();
    expect(r).toMatchObject({ status: 'pass', measurement: 'responseTime', unit: 'ms', threshold: '≤500ms' });
    const d = r.details as Record<string, unknown>;
    expect(d).toMatchObject({ target: seed, connectionStatus: 'connected', clusterState: 'ok', slotsAssigned: 16384, slotsOk: 16384, knownNodes: 3, masters: 3 });
    expect(typeof d.setGetDelMs).toBe('number');
    const nodes = d.nodes as { address: string; pingMs: number; usedMemory: string }[];
    expect(nodes.map((n) => n.address).sort()).toEqual(cluster.ports.map((p) => `127.0.0.1:${p}`).sort());
    for (const n of nodes) expect(n.usedMemory).toMatch(/B$/);
  });

  it('probes the app cluster client as is and leaves it connected', async () => {
    const app = new Cluster([{ host: '127.0.0.1', port: cluster.ports[1]! }]);
    try {
      await app.ping();
      const c = keep(redisClusterCheck({ client: app, writeCheck: false }));
      const r = await run(c);
      expect(r.status).toBe('pass');
      expect((r.details as Record<string, unknown>).target).toBe('app cluster client');
      await c.close?.();
      expect(app.status).toBe('ready');
      expect(await app.ping()).toBe('PONG');
    } finally {
      app.disconnect();
    }
  });

  it('warns when a master nears maxmemory, naming the master', async () => {
    const port = cluster.ports[2]!;
    const used = Number(/used_memory:(\d+)/.exec(await cluster.cli(port, 'info', 'memory'))![1]);
    await cluster.cli(port, 'config', 'set', 'maxmemory', String(Math.round(used / 0.95)));
    try {
      const r = await run(keep(redisClusterCheck({ nodes: [seed], writeCheck: false })));
      expect(r.status).toBe('warn');
      expect(r.message).toMatch(new RegExp(`^master 127\\.0\\.0\\.1:${port} memory 9\\d(\\.\\d)?% of maxmemory`));
    } finally {
      await cluster.cli(port, 'config', 'set', 'maxmemory', '0');
    }
  });

  it('fails, saying so, when no seed answers', async () => {
    const r = await run(keep(redisClusterCheck({ nodes: [`redis://127.0.0.1:${await closedPort()}`], timeoutMs: 1000 })));
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^cannot connect to the cluster: /);
  });

  // Last: it leaves the cluster with a dead master.
  it('fails when a master dies, naming it, for its own client and the app client alike, and then reports the cluster down', async () => {
    const app = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      await app.ping();
      const own = keep(redisClusterCheck({ nodes: [seed], writeCheck: false }));
      const viaApp = keep(redisClusterCheck({ client: app, writeCheck: false }));
      expect((await run(own)).status).toBe('pass');
      expect((await run(viaApp)).status).toBe('pass');
      const dead = cluster.ports[1]!;
      cluster.kill(dead);
      for (const c of [own, viaApp]) {
        let last = await run(c);
        await waitFor(async () => (last = await run(c)).status === 'fail', 10_000, `${c.name} fails`);
        expect(last.message).toContain(`127.0.0.1:${dead}`);
      }
      // Once the survivors agree the cluster is down, a check connecting afresh reports that state
      // (not a connect timeout).
      await waitFor(async () => (await cluster.cli(cluster.ports[0]!, 'cluster', 'info')).includes('cluster_state:fail'), 15_000, 'cluster_state:fail');
      const fresh = await run(keep(redisClusterCheck({ nodes: [seed], writeCheck: false })));
      expect(fresh.status).toBe('fail');
      expect(fresh.message).toMatch(/^cluster_state is fail; /);
    } finally {
      app.disconnect();
    }
  }, 40_000);
});
