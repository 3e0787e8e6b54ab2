import type { CachePrefix } from '../config/env';
import type { CacheSeries, Recorder } from '../metrics/recorder';
import type { ModuleTarget } from './module-patcher';
import { reportSuppressed } from './safely';

const kPatched = Symbol.for('chatpulse.ioredis.patched');
const kCounted = Symbol.for('chatpulse.ioredis.counted');

/** How a read command's arguments map to looked-up keys. */
type ReadShape = 'key' | 'keys' | 'hashField' | 'hashFields' | 'exists';

/**
 * The read shape of a command name, undefined for the rest. Every command asks: a switch on
 * ioredis' (internalized) lower-case names, cheaper than a map lookup.
 */
function readShapeOf(name: unknown): ReadShape | undefined {
  switch (name) {
    case 'get':
    case 'getex':
      return 'key';
    case 'mget':
      return 'keys';
    case 'hget':
      return 'hashField';
    case 'hmget':
      return 'hashFields';
    case 'exists':
      return 'exists';
    default:
      return undefined;
  }
}

interface RedisCommand {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
  [kCounted]?: true;
}

/** Which configured cache a key belongs to, if any (prefixes are sorted longest first). */
export function cacheOf(key: unknown, prefixes: readonly CachePrefix[], keyPrefix: string): string | undefined {
  const i = cacheIndexOf(key, prefixes, keyPrefix);
  return i < 0 ? undefined : prefixes[i]!.name;
}

/**
 * The index in `prefixes` of the prefix a key starts with (after the client's keyPrefix), or -1.
 * Matched in place (`startsWith` at an offset): no sliced key string per lookup.
 */
function cacheIndexOf(key: unknown, prefixes: readonly CachePrefix[], keyPrefix: string): number {
  let k: string;
  if (typeof key === 'string') k = key;
  else if (Buffer.isBuffer(key)) k = key.toString('latin1', 0, Math.min(key.length, 256));
  else return -1;
  const at = keyPrefix !== '' && k.startsWith(keyPrefix) ? keyPrefix.length : 0;
  for (let i = 0; i < prefixes.length; i++) if (k.startsWith(prefixes[i]!.prefix, at)) return i;
  return -1;
}

/**
 * Counts cache hits and misses of ioredis reads, per key, for keys under a configured prefix.
 * The hook sits on `Redis.prototype.sendCommand`, the single path every command takes (also in
 * ioredis 5, which has no diagnostics channel); a symbol on the command stops re-sends and cluster
 * redirections from counting twice.
 *
 * Per call it costs what bench/hook-cost.js measures: per cache, the series and the reply handlers
 * are made once, so a counted GET allocates no closure and looks up no series; the handlers hang
 * on the command's own promise (one `then`, the least that sees both the reply and a failure
 * without touching ioredis internals).
 */
export function ioredisTarget(recorder: Recorder, prefixes: readonly CachePrefix[]): ModuleTarget {
  /** A cache's series and the reply handlers of its reads. */
  interface CacheReads {
    /** GET, GETEX, HGET: one lookup, a hit unless the reply is null. */
    readonly onOne: (result: unknown) => void;
    /** MGET, HMGET: one lookup per element of the reply. */
    readonly onMany: (result: unknown) => void;
    readonly series: CacheSeries;
  }
  // By prefix index (cacheIndexOf), made on the prefix's first counted read; prefixes naming the
  // same cache share one.
  const readsAt: (CacheReads | undefined)[] = prefixes.map(() => undefined);
  const byName = new Map<string, CacheReads>();

  function readsOf(index: number): CacheReads {
    const known = readsAt[index];
    if (known !== undefined) return known;
    const cache = prefixes[index]!.name;
    let r = byName.get(cache);
    if (r === undefined) {
      r = makeReads(recorder.cacheSeries(cache));
      byName.set(cache, r);
    }
    readsAt[index] = r;
    return r;
  }

  function makeReads(series: CacheSeries): CacheReads {
    return {
      series,
      onOne(result: unknown): void {
        try {
          if (result === null || result === undefined) recorder.cacheCounted(series, 0, 1);
          else recorder.cacheCounted(series, 1, 0);
        } catch (err) {
          reportSuppressed(err);
        }
      },
      onMany(result: unknown): void {
        try {
          if (!Array.isArray(result)) return;
          let hits = 0;
          for (let i = 0; i < result.length; i++) if (result[i] !== null && result[i] !== undefined) hits++;
          recorder.cacheCounted(series, hits, result.length - hits);
        } catch (err) {
          reportSuppressed(err);
        }
      },
    };
  }

  function onReadFailed(): void {
    try {
      recorder.error('cache');
    } catch (err) {
      reportSuppressed(err);
    }
  }

  function observe(redis: { options?: { keyPrefix?: string } }, command: RedisCommand): void {
    const shape = readShapeOf(command.name);
    if (shape === undefined) return;
    const args = command.args;
    if (!Array.isArray(args) || args.length === 0) return;
    const keyPrefix = redis.options?.keyPrefix ?? '';
    const index = cacheIndexOf(args[0], prefixes, keyPrefix);
    if (index < 0) return;
    if (shape === 'keys' || shape === 'exists') {
      // Count only when every key belongs to the same cache; a mixed MGET has no per-cache answer
      // for EXISTS, and for MGET it is rare enough to skip.
      const cache = prefixes[index]!.name;
      for (let i = 1; i < args.length; i++) {
        const j = cacheIndexOf(args[i], prefixes, keyPrefix);
        if (j !== index && (j < 0 || prefixes[j]!.name !== cache)) return;
      }
    }
    const promise = command.promise;
    if (!(promise instanceof Promise)) return;
    command[kCounted] = true;
    const r = readsOf(index);
    // Our handlers never throw, so the chain we add never produces an unhandled rejection.
    if (shape === 'key' || shape === 'hashField') promise.then(r.onOne, onReadFailed);
    else if (shape === 'exists') {
      const lookups = args.length;
      const series = r.series;
      promise.then((result) => {
        try {
          const hits = typeof result === 'number' ? Math.max(0, Math.min(result, lookups)) : 0;
          recorder.cacheCounted(series, hits, lookups - hits);
        } catch (err) {
          reportSuppressed(err);
        }
      }, onReadFailed);
    } else promise.then(r.onMany, onReadFailed);
  }

  return {
    file: 'ioredis/built/Redis.js',
    patch(moduleExports) {
      const Redis = (moduleExports as { default?: { prototype?: Record<PropertyKey, unknown> } }).default;
      const proto = Redis?.prototype;
      if (proto === undefined || typeof proto.sendCommand !== 'function' || proto[kPatched]) return undefined;
      const original = proto.sendCommand as (this: unknown, command: unknown, stream?: unknown) => unknown;
      const sendCommand = function (this: { options?: { keyPrefix?: string } }, command: RedisCommand, stream?: unknown) {
        // ioredis declares sendCommand(command, stream): passed on as two arguments, no arguments
        // object (the rare call with more goes through apply, unchanged).
        // eslint-disable-next-line prefer-rest-params
        const ret = arguments.length <= 2 ? original.call(this, command, stream) : original.apply(this, arguments as unknown as [unknown, unknown]);
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
