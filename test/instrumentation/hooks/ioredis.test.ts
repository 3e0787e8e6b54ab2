import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { resolveConfig } from '../../../instrumentation/config/env';
import { ioredisTarget } from '../../../instrumentation/hooks/ioredis';
import { startRuntime, type Runtime } from '../../../instrumentation/runtime';
import { MetricsView } from '../../helpers/metrics';

// The constructor's shape is the same in ioredis 5 and 6.
type RedisCtor = typeof import('ioredis').default;

const LOOKUPS = 'chatbot.cache.lookups';
const run = randomUUID().slice(0, 8);
const majors = ['6', '5'] as const;
let runtime: Runtime;
let view: MetricsView;
let undoV5: (() => void) | undefined;

beforeAll(() => {
  // Run-unique cache names keep this file independent of any other traffic in the process, and
  // each ioredis major's suite independent of the other's.
  const prefixes = majors.flatMap((m) => [`kb${m}${run}=kb${m}${run}:`, `tts${m}${run}=tts${m}${run}:`, `kb${m}${run}v2=kb${m}${run}:v2:`]);
  const { config, problems } = resolveConfig({ OTEL_METRICS_EXPORTER: 'none', CHATPULSE_CACHE_PREFIXES: prefixes.join(',') });
  expect(problems).toEqual([]);
  runtime = startRuntime(config);
  view = new MetricsView(runtime.recorder);
  // ioredis 5 is installed under the alias `ioredis5`, which the hook's by-name module matching
  // does not see; the same target patches its Redis.js, so the suite below checks the patch itself
  // against ioredis 5's sendCommand, commands and pipelines.
  const v5 = createRequire(__filename)('ioredis5/built/Redis.js') as unknown;
  undoV5 = ioredisTarget(runtime.recorder, config.cachePrefixes).patch(v5);
  expect(undoV5).toBeTypeOf('function');
});

afterAll(async () => {
  undoV5?.();
  await runtime.shutdown();
});

function lookups(cache: string, result: 'hit' | 'miss'): number {
  return view.value(LOOKUPS, { 'chatbot.cache.name': cache, 'chatbot.cache.result': result });
}

/** The same suite for each ioredis major, with its own cache names. */
function suite(major: (typeof majors)[number]): void {
  // Loaded after the runtime starts, as `--require chatpulse/register` would order it.
  const load = async (): Promise<RedisCtor> =>
    major === '6' ? (await import('ioredis')).default : ((await import('ioredis5')) as unknown as { default: RedisCtor }).default;
  let Redis: RedisCtor;
  let redis: InstanceType<RedisCtor>;
  const kb = `kb${major}${run}`;
  const tts = `tts${major}${run}`;

  describe(`ioredis ${major}: cache hit and miss counting`, () => {
    beforeAll(async () => {
      Redis = await load();
      expect(createRequire(__filename)(major === '6' ? 'ioredis/package.json' : 'ioredis5/package.json').version).toMatch(new RegExp(`^${major}\\.`));
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
    });

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
}

for (const major of majors) suite(major);
