import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { resolveConfig } from '../../../instrumentation/config/env';
import { startRuntime, type Runtime } from '../../../instrumentation/runtime';
import { MetricsView } from '../../helpers/metrics';

// Loaded after the runtime starts, as `--require chatpulse/register` would order it.
type RedisCtor = typeof import('ioredis').default;

const LOOKUPS = 'chatbot.cache.lookups';
const run = randomUUID().slice(0, 8);
let runtime: Runtime;
let view: MetricsView;
let Redis: RedisCtor;
let redis: InstanceType<RedisCtor>;
let kb: string;
let tts: string;

function lookups(cache: string, result: 'hit' | 'miss'): number {
  return view.value(LOOKUPS, { 'chatbot.cache.name': cache, 'chatbot.cache.result': result });
}

beforeAll(async () => {
  // Run-unique cache names keep this file independent of any other traffic in the process.
  kb = `kb${run}`;
  tts = `tts${run}`;
  const { config, problems } = resolveConfig({
    OTEL_METRICS_EXPORTER: 'none',
    CHATPULSE_CACHE_PREFIXES: `${kb}=${kb}:,${tts}=${tts}:,${kb}v2=${kb}:v2:`,
  });
  expect(problems).toEqual([]);
  runtime = startRuntime(config);
  view = new MetricsView(runtime.recorder);
  Redis = (await import('ioredis')).default;
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.set(`${kb}:q1`, 'context one', 'EX', 60);
  await redis.set(`${kb}:q2`, 'context two', 'EX', 60);
  await redis.set(`${tts}:s1`, Buffer.from([1, 2, 3]), 'EX', 60);
  await redis.hset(`${kb}:h`, 'a', '1', 'b', '2');
  await redis.expire(`${kb}:h`, 60);
  await redis.set(`${kb}:v2:x`, 'v2', 'EX', 60);
  await redis.set(`other${run}:k`, 'not a cache', 'EX', 60);
});

afterAll(async () => {
  await redis.del(`${kb}:q1`, `${kb}:q2`, `${tts}:s1`, `${kb}:h`, `${kb}:v2:x`, `other${run}:k`);
  redis.disconnect();
  await runtime.shutdown();
});

describe('ioredis cache hit and miss counting', () => {
  it('counts GET and getBuffer per key by prefix', async () => {
    expect(await redis.get(`${kb}:q1`)).toBe('context one');
    expect(await redis.get(`${kb}:absent`)).toBeNull();
    expect(await redis.getBuffer(`${tts}:s1`)).toEqual(Buffer.from([1, 2, 3]));
    expect(await redis.getBuffer(`${tts}:absent`)).toBeNull();
    expect(await redis.get(`${tts}:absent2`)).toBeNull();
    expect(lookups(kb, 'hit')).toBe(1);
    expect(lookups(kb, 'miss')).toBe(1);
    expect(lookups(tts, 'hit')).toBe(1);
    expect(lookups(tts, 'miss')).toBe(2);
  });

  it('counts MGET, HGET, HMGET and EXISTS per key or field, exactly', async () => {
    const before = { hit: lookups(kb, 'hit'), miss: lookups(kb, 'miss') };
    expect(await redis.mget(`${kb}:q1`, `${kb}:q2`, `${kb}:nope`)).toEqual(['context one', 'context two', null]);
    expect(await redis.hget(`${kb}:h`, 'a')).toBe('1');
    expect(await redis.hget(`${kb}:h`, 'zz')).toBeNull();
    expect(await redis.hmget(`${kb}:h`, 'a', 'b', 'c')).toEqual(['1', '2', null]);
    expect(await redis.exists(`${kb}:q1`, `${kb}:nope`, `${kb}:q2`)).toBe(2);
    // mget 2/1, hget 1/1, hmget 2/1, exists 2/1
    expect(lookups(kb, 'hit') - before.hit).toBe(7);
    expect(lookups(kb, 'miss') - before.miss).toBe(4);
  });

  it('gives the longest matching prefix its own cache and ignores other keys and writes', async () => {
    const total = () => view.value(LOOKUPS);
    const before = total();
    const v2Before = lookups(`${kb}v2`, 'hit');
    await redis.get(`${kb}:v2:x`);
    await redis.get(`other${run}:k`);
    await redis.set(`${kb}:written`, 'x', 'EX', 5);
    await redis.del(`${kb}:written`);
    expect(lookups(`${kb}v2`, 'hit')).toBe(v2Before + 1);
    expect(total()).toBe(before + 1);
  });

  it('strips the client keyPrefix before matching', async () => {
    const prefixed = new Redis('redis://127.0.0.1:6379', { keyPrefix: `app${run}:`, lazyConnect: true });
    await prefixed.connect();
    try {
      await prefixed.set(`${kb}:p`, 'v', 'EX', 60);
      const before = lookups(kb, 'hit');
      expect(await prefixed.get(`${kb}:p`)).toBe('v');
      expect(lookups(kb, 'hit')).toBe(before + 1);
      await prefixed.del(`${kb}:p`);
    } finally {
      prefixed.disconnect();
    }
  });

  it('counts reads inside a pipeline', async () => {
    const before = { hit: lookups(kb, 'hit'), miss: lookups(kb, 'miss') };
    const res = await redis.pipeline().get(`${kb}:q1`).get(`${kb}:nope`).exec();
    expect(res?.map(([, v]) => v)).toEqual(['context one', null]);
    expect(lookups(kb, 'hit') - before.hit).toBe(1);
    expect(lookups(kb, 'miss') - before.miss).toBe(1);
  });

  it('leaves command errors to the app and counts them as cache errors', async () => {
    const errorsBefore = view.value('chatbot.errors', { 'error.type': 'cache' });
    await redis.hset(`${kb}:wrongtype`, 'f', 'v');
    await expect(redis.get(`${kb}:wrongtype`)).rejects.toThrow(/WRONGTYPE/);
    await redis.del(`${kb}:wrongtype`);
    expect(view.value('chatbot.errors', { 'error.type': 'cache' })).toBe(errorsBefore + 1);
  });
});
