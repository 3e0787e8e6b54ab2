import { now as clock } from '../clock';
import type { Recorder } from '../metrics/recorder';
import type { ModuleTarget } from './module-patcher';
import { safely } from './safely';

const kPatched = Symbol.for('chatpulse.pg.patched');
/** application_name of the health service's Postgres probe connections. */
export const HEALTH_APPLICATION_NAME = 'chatpulse-health';
const OPERATIONS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'WITH', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT',
  'RELEASE', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'COPY', 'SET', 'SHOW', 'EXPLAIN', 'LISTEN',
  'NOTIFY', 'VACUUM', 'ANALYZE', 'CALL', 'DO', 'LOCK', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'REFRESH',
]);
const FIRST_WORD = /^\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*\(?\s*([A-Za-z]+)/;

/** The SQL command keyword (`SELECT`, `INSERT`, …), bounded to a known set, else `other`. */
export function operationOf(config: unknown): string {
  const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') return 'other';
  const m = FIRST_WORD.exec(text);
  const word = m?.[1]?.toUpperCase();
  return word !== undefined && OPERATIONS.has(word) ? word : 'other';
}

/** error.type for a failed query: the SQLSTATE, or the socket error code, or the error class. */
export function errorTypeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e !== null && typeof e === 'object') {
    if (typeof e.code === 'string' && /^[A-Z0-9_]{2,32}$/.test(e.code)) return e.code;
    if (typeof e.name === 'string' && e.name.length <= 64) return e.name;
  }
  return '_OTHER';
}

/** Records `db.client.operation.duration` for every query through `pg.Client` (pools included). */
export function pgTarget(recorder: Recorder): ModuleTarget {
  function done(op: string, startedAt: number, err: unknown): void {
    const errorType = err === undefined || err === null ? undefined : errorTypeOf(err);
    recorder.dbOperation('postgresql', op, errorType, (clock() - startedAt) / 1000);
    if (errorType !== undefined) recorder.error(/^E[A-Z]+$/.test(errorType) ? 'network' : 'database');
  }

  return {
    file: 'pg/lib/client.js',
    patch(moduleExports) {
      const proto = (moduleExports as { prototype?: Record<PropertyKey, unknown> }).prototype;
      if (proto === undefined || typeof proto.query !== 'function' || proto[kPatched]) return undefined;
      const original = proto.query as (this: unknown, ...args: unknown[]) => unknown;
      const query = function (this: unknown, config: unknown) {
        // The health service's own probes are not the app's database traffic.
        if ((this as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name === HEALTH_APPLICATION_NAME) {
          // eslint-disable-next-line prefer-rest-params
          return original.apply(this, arguments as unknown as unknown[]);
        }
        const startedAt = clock();
        let op = 'other';
        safely(() => {
          op = operationOf(config);
        });
        // eslint-disable-next-line prefer-rest-params
        const args = Array.prototype.slice.call(arguments) as unknown[];
        const cbIndex = args.length > 1 && typeof args[args.length - 1] === 'function' ? args.length - 1 : -1;
        if (cbIndex !== -1) {
          const cb = args[cbIndex] as (this: unknown, ...a: unknown[]) => unknown;
          args[cbIndex] = function (this: unknown, err: unknown) {
            safely(done, op, startedAt, err);
            // eslint-disable-next-line prefer-rest-params
            return cb.apply(this, arguments as unknown as unknown[]);
          };
          return original.apply(this, args);
        }
        const ret = original.apply(this, args);
        if (ret instanceof Promise) {
          // A derived promise that settles like the original keeps the app's unhandled-rejection
          // behaviour exactly as it was.
          return ret.then(
            (res) => {
              safely(done, op, startedAt, undefined);
              return res;
            },
            (err) => {
              safely(done, op, startedAt, err);
              throw err;
            },
          );
        }
        const submittable = ret as { once?: (ev: string, fn: () => void) => unknown } | undefined;
        if (submittable !== undefined && submittable !== null && typeof submittable.once === 'function') {
          // Only 'end': adding an 'error' listener would change what an unhandled error does.
          submittable.once('end', () => safely(done, op, startedAt, undefined));
        }
        return ret;
      };
      proto.query = query;
      proto[kPatched] = true;
      return () => {
        if (proto.query === query) proto.query = original;
        delete proto[kPatched];
      };
    },
  };
}
