import { ChatpulseConfigError, type ConfigProblem } from '../errors';
import type { Parser } from './parsers';
import type { Resolved, Setting, SettingTable } from './setting';

export type Env = Readonly<Record<string, string | undefined>>;

/** A value rejected in fall-back mode: the variable, what it held, why, and the default used instead. */
export interface Rejection {
  readonly variable: string;
  readonly value: string;
  readonly reason: string;
  readonly fallback: string;
}

/** An environment variable's value, trimmed; undefined when unset or blank. */
export function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * Reads settings in one of the three ways Chatpulse reports a bad value:
 *
 * - `fallback`: the zero-code hook. Never throws; each rejected value is recorded (`rejections`)
 *   and the default used, so the host app starts whatever its environment says.
 * - `first`: the health service and the CLI. Throws ChatpulseConfigError naming the field of the
 *   first bad value, before anything starts.
 * - `all`: the alerts section. Records every problem, then `done()` throws them together.
 */
export class SettingsReader {
  readonly rejections: Rejection[] = [];
  readonly problems: ConfigProblem[] = [];

  constructor(
    private readonly mode: 'fallback' | 'first' | 'all',
    private readonly env: Env = {},
    private readonly file: Readonly<Record<string, unknown>> = {},
  ) {}

  /** Reads one setting: the environment variable if set, else the file's field, else the default. */
  read<T>(s: Setting<T>): T {
    const fromEnv = s.env === undefined ? undefined : s.blankIsValue === true ? this.env[s.env] : envValue(this.env, s.env);
    if (fromEnv !== undefined) return this.value(s.env!, fromEnv, s.parse, s.default, s.defaultText);
    const fromFile = s.file === undefined ? undefined : this.file[s.file];
    if (fromFile !== undefined) return this.value(s.file!, fromFile, s.parse, s.default, s.defaultText);
    return s.default;
  }

  /** Reads every setting of a table. */
  readAll<T extends SettingTable>(table: T): Resolved<T> {
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(table)) out[k] = this.read(s);
    return out as Resolved<T>;
  }

  /** Parses one value from `field`; on rejection reports it (by mode) and returns `fallback`. */
  value<T>(field: string, raw: unknown, parse: Parser<T>, fallback: T, fallbackText?: string): T {
    const r = parse(raw);
    if (r.ok) return r.value;
    this.reject(field, raw, r.reason, fallbackText ?? String(fallback), r.secret === true);
    return fallback;
  }

  /** Reports a bad value found by the caller's own check (a composite setting). */
  reject(field: string, raw: unknown, reason: string, fallbackText: string, secret = false): void {
    if (this.mode === 'fallback') {
      this.rejections.push({ variable: field, value: secret ? '(redacted)' : String(raw), reason, fallback: fallbackText });
      return;
    }
    const message = secret ? reason : `${reason}, got ${JSON.stringify(raw)}`;
    if (this.mode === 'first') throw ChatpulseConfigError.of(field, message);
    this.problems.push({ field, message });
  }

  /** `all` mode: throws every problem recorded, if any. */
  done(): void {
    if (this.problems.length > 0) throw new ChatpulseConfigError(this.problems);
  }
}
