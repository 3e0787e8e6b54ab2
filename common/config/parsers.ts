/**
 * The value parsers every configuration consumer shares: the instrumentation's environment, the
 * health configuration (file and environment), the `alerts` section and the CLI's flags. A parser
 * never throws: it returns the value, or why the input is not one. How a rejection is reported
 * (warn and fall back, throw naming the field, collect them all) is the resolver's business
 * (resolve.ts), so the same setting reads the same way everywhere.
 */

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly secret?: boolean };
export type Parser<T> = (raw: unknown) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const no = (reason: string, secret = false): Parsed<never> => ({ ok: false, reason, ...(secret ? { secret } : {}) });

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `30s`, `5m`, `1h`, `2d`, or a bare number of milliseconds. Undefined when invalid. */
export function parseDuration(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (m === null) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
}

/** `true`/`false`/`1`/`0` (any case), or a boolean. */
export const bool: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return ok(raw);
  const l = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (l === 'true' || l === '1') return ok(true);
  if (l === 'false' || l === '0') return ok(false);
  return no('expected true or false');
};

/** An integer in [min, max], as a number or a decimal string. */
export function int(min: number, max: number): Parser<number> {
  return (raw) => {
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? ok(n) : no(`expected an integer from ${min} to ${max}`);
  };
}

/** A TCP port, 0 to 65535. */
export const port: Parser<number> = int(0, 65535);

/** A finite number ≥ 0. */
export const nonNegative: Parser<number> = (raw) => {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? ok(n) : no('expected a non-negative number');
};

/** A duration (`500ms`, `30s`, `5m`, or a number of milliseconds) of at least `minMs`. */
export function duration(minMs = 0): Parser<number> {
  return (raw) => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms >= minMs ? ok(ms) : no(`expected a duration such as 500ms, 30s or 5m${minMs > 0 ? ` (at least ${minMs} ms)` : ''}`);
  };
}

/** One of `allowed`, case-insensitive. */
export function oneOf<T extends string>(allowed: readonly T[]): Parser<T> {
  return (raw) => {
    const l = typeof raw === 'string' ? (raw.toLowerCase() as T) : undefined;
    return l !== undefined && allowed.includes(l) ? ok(l) : no(`expected one of ${allowed.join(', ')}`);
  };
}

/** A comma-separated list (or an array of strings); empty items dropped. */
export const list: Parser<string[]> = (raw) => {
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return ok(raw.map((s) => s.trim()).filter((s) => s !== ''));
  if (typeof raw !== 'string') return no('expected a comma-separated list');
  return ok(
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
};

/** Any string, as given. */
export const text: Parser<string> = (raw) => (typeof raw === 'string' || typeof raw === 'number' ? ok(String(raw)) : no('expected a string'));

/**
 * A URL with one of `protocols` (`['http:', 'https:']`). The value is never echoed in the reason:
 * connection strings carry passwords.
 */
export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    if (typeof raw !== 'string') return no('expected a URL', true);
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return no('is not a valid URL', true);
    }
    return protocols.includes(u.protocol) ? ok(raw) : no(`expected a ${protocols.join(' or ')} URL`, true);
  };
}

/** An http or https URL. */
export const httpUrl: Parser<string> = (raw) => {
  const r = url(['http:', 'https:'])(raw);
  return r.ok ? r : no('expected an http or https URL', true);
};
