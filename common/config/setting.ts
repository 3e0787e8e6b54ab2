import type { Parser } from './parsers';

/**
 * One setting, described once: where it is read from (an environment variable, a config-file
 * field, or both: the environment wins), how it is parsed and bounded, and its default. Each
 * consumer lists its settings as a table of these and resolves the table in its own mode
 * (resolve.ts); nothing reads `process.env` or the file for a setting elsewhere.
 */
export interface Setting<T> {
  /** The resolved configuration's key. */
  readonly key: string;
  /** Environment variable, e.g. `CHATPULSE_HEALTH_WINDOW`. */
  readonly env?: string;
  /** Config-file field, e.g. `window`. */
  readonly file?: string;
  readonly parse: Parser<T>;
  readonly default: T;
  /** How a warning names the default when it is not self-explanatory (an empty list, say). */
  readonly defaultText?: string;
  /** An empty variable is a value (`CHATPULSE_SSE_IGNORE_EVENTS=` ignores nothing), not "unset". */
  readonly blankIsValue?: boolean;
}

export function setting<T>(s: Setting<T>): Setting<T> {
  return Object.freeze(s);
}

/** A table of settings, keyed by the resolved configuration's field names. */
export type SettingTable = Readonly<Record<string, Setting<unknown>>>;

/** The resolved values of a table, typed by its settings. */
export type Resolved<T extends SettingTable> = { -readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : never };
