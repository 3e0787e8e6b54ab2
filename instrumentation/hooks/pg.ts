import { now as clock } from '../clock';
import type { HistogramCell } from '../metrics/histogram';
import type { Recorder, Series } from '../metrics/recorder';
import type { ModuleTarget } from './module-patcher';
import { reportSuppressed } from './safely';

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

/**
 * A query's leading keyword as a number (5 bits a letter, case folded), read from its first
 * characters: 0 when that word is longer than any operation, -1 when the text starts otherwise (a
 * comment, a parenthesis, a non-ASCII space), which operationOf()'s expression decides. No string is
 * made or hashed: apps build SQL per call (table names, query builders), and looking a fresh text up
 * in a map hashed all of it, ~2,600 instructions a query for 90 characters (bench/instructions.js
 * --endpoint chat), more for longer ones.
 */
export function keywordCode(text: string): number {
  // charCodeAt through the prototype's function: an app's SQL strings come in several V8
  // representations, and `text.charCodeAt` compiled to a generic property lookup per character.
  const n = text.length;
  let i = 0;
  let c = 0;
  while (i < n && ((c = charCodeAt.call(text, i)) === 32 || (c >= 9 && c <= 13))) i++;
  let code = 0;
  let len = 0;
  for (; i < n; i++) {
    // Letters only: `c | 32` folds A-Z onto a-z and moves no other character into a-z.
    const l = charCodeAt.call(text, i) | 32;
    if (l < 97 || l > 122) break;
    if (++len > MAX_KEYWORD) return 0;
    code = code * 32 + (l & 31);
  }
  return len === 0 ? -1 : code;
}

const { charCodeAt } = String.prototype;
/** The longest operation keyword ('DEALLOCATE'); 10 letters of 5 bits stay an exact double. */
const MAX_KEYWORD = 10;
/** Operation name by keywordCode(). */
const OPERATION_BY_CODE: ReadonlyMap<number, string> = new Map([...OPERATIONS].map((name) => [keywordCode(name), name]));

/** operationOf() from a keywordCode() of 0 or more. */
export function operationOfCode(code: number): string {
  return OPERATION_BY_CODE.get(code) ?? 'other';
}

/** A query text's operation and that operation's success series (resolved on first success). */
interface Operation {
  readonly name: string;
  ok: Series<HistogramCell> | undefined;
}

/** Records `db.client.operation.duration` for every query through `pg.Client` (pools included). */
export function pgTarget(recorder: Recorder): ModuleTarget {
  // Each operation with its success series, resolved once: a query pays a short scan of its first
  // characters and one lookup by number, whatever its text (keywordCode).
  const byName = new Map<string, Operation>();
  const byCode = new Map<number, Operation>();
  const OTHER: Operation = operation('other');
  for (const [code, name] of OPERATION_BY_CODE) byCode.set(code, operation(name));

  function operation(name: string): Operation {
    let o = byName.get(name);
    if (o === undefined) byName.set(name, (o = { name, ok: undefined }));
    return o;
  }

  function operationFor(config: unknown): Operation {
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null | undefined)?.text;
    if (typeof text !== 'string') return OTHER;
    const code = keywordCode(text);
    // A text that starts with a comment or a parenthesis: the full expression.
    if (code < 0) return operation(operationOf(text));
    return byCode.get(code) ?? OTHER;
  }

  function done(op: Operation, startedAt: number, err: unknown): void {
    try {
      const seconds = (clock() - startedAt) / 1000;
      if (err === undefined || err === null) {
        (op.ok ??= recorder.dbSeries('postgresql', op.name, undefined)).value.record(seconds);
        return;
      }
      const errorType = errorTypeOf(err);
      recorder.dbOperation('postgresql', op.name, errorType, seconds);
      recorder.error(/^E[A-Z]+$/.test(errorType) ? 'network' : 'database');
    } catch (e) {
      reportSuppressed(e);
    }
  }

  return {
    file: 'pg/lib/client.js',
    patch(moduleExports) {
      const proto = (moduleExports as { prototype?: Record<PropertyKey, unknown> }).prototype;
      if (proto === undefined || typeof proto.query !== 'function' || proto[kPatched]) return undefined;
      const original = proto.query as (this: unknown, ...args: unknown[]) => unknown;
      const query = function (this: unknown, config: unknown, values?: unknown, callback?: unknown) {
        // The health service's own probes are not the app's database traffic.
        if ((this as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name === HEALTH_APPLICATION_NAME) {
          // eslint-disable-next-line prefer-rest-params
          return original.apply(this, arguments as unknown as unknown[]);
        }
        const startedAt = clock();
        let op = OTHER;
        try {
          op = operationFor(config);
        } catch (e) {
          reportSuppressed(e);
        }
        const n = arguments.length;
        // pg-pool's path: query(text, values, callback). The app's callback, wrapped, is passed on
        // with the other arguments as they came, without copying the arguments object.
        if (n === 3 && typeof callback === 'function') {
          const cb = callback as (this: unknown, ...a: unknown[]) => unknown;
          return original.call(this, config, values, function (this: unknown, err: unknown) {
            done(op, startedAt, err);
            // eslint-disable-next-line prefer-rest-params
            return cb.apply(this, arguments as unknown as unknown[]);
          });
        }
        // eslint-disable-next-line prefer-rest-params
        if (n > 1 && typeof arguments[n - 1] === 'function') {
          // eslint-disable-next-line prefer-rest-params
          const args = Array.prototype.slice.call(arguments) as unknown[];
          const cb = args[n - 1] as (this: unknown, ...a: unknown[]) => unknown;
          args[n - 1] = function (this: unknown, err: unknown) {
            done(op, startedAt, err);
            // eslint-disable-next-line prefer-rest-params
            return cb.apply(this, arguments as unknown as unknown[]);
          };
          return original.apply(this, args);
        }
        // eslint-disable-next-line prefer-rest-params
        const ret = original.apply(this, arguments as unknown as unknown[]);
        if (ret instanceof Promise) {
          // A derived promise that settles like the original keeps the app's unhandled-rejection
          // behaviour exactly as it was.
          return ret.then(
            (res) => {
              done(op, startedAt, undefined);
              return res;
            },
            (err) => {
              done(op, startedAt, err);
              throw err;
            },
          );
        }
        const submittable = ret as { once?: (ev: string, fn: () => void) => unknown } | undefined;
        if (submittable !== undefined && submittable !== null && typeof submittable.once === 'function') {
          // Only 'end': adding an 'error' listener would change what an unhandled error does.
          submittable.once('end', () => done(op, startedAt, undefined));
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
