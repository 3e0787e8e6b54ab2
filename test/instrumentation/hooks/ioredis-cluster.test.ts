import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { resolveConfig } from '../../../instrumentation/config/env';
import { startRuntime, type Runtime } from '../../../instrumentation/runtime';
import { MetricsView } from '../../helpers/metrics';
import { TempRedisCluster } from '../../helpers/redis-cluster';

type ClusterCtor = typeof import('ioredis').Cluster;

const LOOKUPS = 'chatbot.cache.lookups';
const run = randomUUID().slice(0, 8);
const kb = `kbc${run}`;
/** `{t<i>}` is the key's hash tag: a key and its `:absent` sibling share a slot (MGET needs that). */
const key = (i: number, suffix = '') => `${kb}:{t${i}}${suffix}`;
const KEYS = 30;
const SEEDED = 10;

let redisCluster: TempRedisCluster;
let runtime: Runtime;
let view: MetricsView;
let client: InstanceType<ClusterCtor>;

function lookups(result: 'hit' | 'miss'): number {
  return view.value(LOOKUPS, { 'chatbot.cache.name': kb, 'chatbot.cache.result': result });
}

beforeAll(async () => {
  redisCluster = await TempRedisCluster.start();
  const { config, problems } = resolveConfig({ OTEL_METRICS_EXPORTER: 'none', CHATPULSE_CACHE_PREFIXES: `${kb}=${kb}:` });
  expect(problems).toEqual([]);
  runtime = startRuntime(config);
  view = new MetricsView(runtime.recorder);
  // Loaded after the runtime starts, as `--require chatpulse/register` would order it.
  const { Cluster } = await import('ioredis');
  // No periodic slot refresh: the MOVED test relies on the client keeping the old owner.
  client = new Cluster([{ host: '127.0.0.1', port: redisCluster.ports[0]! }], {
    slotsRefreshInterval: 3_600_000,
    redisOptions: { maxRetriesPerRequest: 1 },
  });
  for (let i = 0; i < SEEDED; i++) await client.set(key(i), `context ${i}`, 'EX', 120);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await runtime?.shutdown();
  redisCluster?.stop();
});

describe('ioredis Cluster: cache hit and miss counting', () => {
  it('counts each read once, whichever master serves the key', async () => {
    // The keys must really spread over the masters, or this would test one node.
    const owners = new Set<number>();
    for (let i = 0; i < KEYS; i++) owners.add(await redisCluster.ownerOf(Number(await redisCluster.cli(redisCluster.ports[0]!, 'cluster', 'keyslot', key(i)))));
    expect(owners.size).toBe(3);

    const [hit0, miss0] = [lookups('hit'), lookups('miss')];
    for (let i = 0; i < KEYS; i++) {
      expect(await client.get(key(i))).toBe(i < SEEDED ? `context ${i}` : null);
    }
    expect(lookups('hit') - hit0).toBe(SEEDED);
    expect(lookups('miss') - miss0).toBe(KEYS - SEEDED);
  });

  it('counts a read redirected by MOVED once', async () => {
    const slot = Number(await redisCluster.cli(redisCluster.ports[0]!, 'cluster', 'keyslot', key(0)));
    const from = await redisCluster.ownerOf(slot);
    const to = redisCluster.ports.find((p) => p !== from)!;
    // The client learnt the slot's owner by reading through it.
    expect(await client.get(key(0))).toBe('context 0');
    await redisCluster.moveSlot(slot, from, to);
    expect(await redisCluster.ownerOf(slot)).toBe(to);

    const moved0 = await redisCluster.errorCount(from, 'MOVED');
    const [hit0, miss0] = [lookups('hit'), lookups('miss')];
    expect(await client.mget(key(0), key(0, ':absent'))).toEqual(['context 0', null]);
    // The old owner answered MOVED, and the client re-sent the command to the new one.
    expect(await redisCluster.errorCount(from, 'MOVED')).toBe(moved0 + 1);
    expect(lookups('hit') - hit0).toBe(1);
    expect(lookups('miss') - miss0).toBe(1);
  });
});
