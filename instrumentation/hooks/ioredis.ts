import type { CachePrefix } from '../config/env';
import type { Recorder } from '../metrics/recorder';
import type { ModuleTarget } from './module-patcher';
import { reportSuppressed } from './safely';

const kPatched = Symbol.for('chatpulse.ioredis.patched');
const kCounted = Symbol.for('chatpulse.ioredis.counted');

/** How a read command's arguments map to looked-up keys. */
type ReadShape = 'key' | 'keys' | 'hashField' | 'hashFields' | 'exists';
const READS: ReadonlyMap<string, ReadShape> = new Map([
  ['get', 'key'],
  ['getex', 'key'],
  ['mget', 'keys'],
  ['hget', 'hashField'],
  ['hmget', 'hashFields'],
  ['exists', 'exists'],
]);

interface RedisCommand {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
  [kCounted]?: true;
}

/** Which configured cache a key belongs to, if any (prefixes are sorted longest first). */
export function cacheOf(key: unknown, prefixes: readonly CachePrefix[], keyPrefix: string): string | undefined {
  let k: string;
  if (typeof key === 'string') k = key;
  else if (Buffer.isBuffer(key)) k = key.toString('latin1', 0, Math.min(key.length, 256));
  else return undefined;
  if (keyPrefix !== '' && k.startsWith(keyPrefix)) k = k.slice(keyPrefix.length);
  for (const p of prefixes) if (k.startsWith(p.prefix)) return p.name;
  return undefined;
}

/**
 * Counts cache hits and misses of ioredis reads, per key, for keys under a configured prefix.
 * The hook sits on `Redis.prototype.sendCommand`, the single path every command takes (also in
 * ioredis 5, which has no diagnostics channel); a symbol on the command stops re-sends and cluster
 * redirections from counting twice.
 */
export function ioredisTarget(recorder: Recorder, prefixes: readonly CachePrefix[]): ModuleTarget {
  function count(cache: string, shape: ReadShape, lookups: number, result: unknown): void {
    if (shape === 'key' || shape === 'hashField') {
      recorder.cacheLookup(cache, result === null || result === undefined ? 'miss' : 'hit');
    } else if (shape === 'exists') {
      const hits = typeof result === 'number' ? Math.min(result, lookups) : 0;
      if (hits > 0) recorder.cacheLookup(cache, 'hit', hits);
      if (lookups - hits > 0) recorder.cacheLookup(cache, 'miss', lookups - hits);
    } else if (Array.isArray(result)) {
      let hits = 0;
      for (const v of result) if (v !== null && v !== undefined) hits++;
      if (hits > 0) recorder.cacheLookup(cache, 'hit', hits);
      if (result.length - hits > 0) recorder.cacheLookup(cache, 'miss', result.length - hits);
    }
  }

  function onReadFailed(): void {
    try {
      recorder.error('cache');
    } catch (err) {
      reportSuppressed(err);
    }
  }

  function observe(redis: { options?: { keyPrefix?: string } }, command: RedisCommand): void {
    const shape = READS.get(command.name);
    if (shape === undefined || !Array.isArray(command.args) || command.args.length === 0) return;
    const keyPrefix = redis.options?.keyPrefix ?? '';
    let cache: string | undefined;
    let lookups = 1;
    if (shape === 'keys' || shape === 'exists') {
      // Count only when every key belongs to the same cache; a mixed MGET has no per-cache answer
      // for EXISTS, and for MGET it is rare enough to skip.
      cache = cacheOf(command.args[0], prefixes, keyPrefix);
      for (let i = 1; cache !== undefined && i < command.args.length; i++) {
        if (cacheOf(command.args[i], prefixes, keyPrefix) !== cache) cache = undefined;
      }
      lookups = command.args.length;
    } else {
      cache = cacheOf(command.args[0], prefixes, keyPrefix);
      if (shape === 'hashFields') lookups = command.args.length - 1;
    }
    if (cache === undefined || !(command.promise instanceof Promise)) return;
    command[kCounted] = true;
    const c = cache;
    // Our handlers never throw, so the chain we add never produces an unhandled rejection.
    command.promise.then(
      (result) => {
        try {
          count(c, shape, lookups, result);
        } catch (err) {
          reportSuppressed(err);
        }
      },
      onReadFailed,
    );
  }

  return {
    file: 'ioredis/built/Redis.js',
    patch(moduleExports) {
      const Redis = (moduleExports as { default?: { prototype?: Record<PropertyKey, unknown> } }).default;
      const proto = Redis?.prototype;
      if (proto === undefined || typeof proto.sendCommand !== 'function' || proto[kPatched]) return undefined;
      const original = proto.sendCommand as (this: unknown, ...args: unknown[]) => unknown;
      const sendCommand = function (this: { options?: { keyPrefix?: string } }, command: RedisCommand) {
        // eslint-disable-next-line prefer-rest-params
        const ret = original.apply(this, arguments as unknown as unknown[]);
        // Every command passes here: an inline try/catch, not safely()'s rest-args call.
        if (command !== null && typeof command === 'object' && command[kCounted] !== true) {
          try {
            observe(this, command);
          } catch (err) {
            reportSuppressed(err);
          }
        }
        return ret;
      };
      proto.sendCommand = sendCommand;
      proto[kPatched] = true;
      return () => {
        if (proto.sendCommand === sendCommand) proto.sendCommand = original;
        delete proto[kPatched];
      };
    },
  };
}
