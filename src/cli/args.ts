import { duration, httpUrl, parseDuration, port } from '../../common/config';

import { UsageError } from '../../common/errors';
import { VERSION } from '../../common/version';

/** Bad command-line usage: printed as one line, exit code 2 (common/errors.ts). */
export { UsageError };

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * node:util parseArgs (strict) errors as one line that names the flag: `unknown option --bogus`,
 * `option --port needs a value`. Anything else is rethrown.
 */
export function usageErrorOf(err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  const flag = quoted?.split(' ')[0];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${flag ?? e.message}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message)) return new UsageError(`option ${flag} takes no value`);
      return new UsageError(`option ${flag ?? e.message} needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${JSON.stringify(quoted ?? '')}`);
    default:
      throw err;
  }
}

/*
 * Flags are parsed by the configuration pipeline's parsers (common/config), as the same settings
 * are from the environment and the file; only the wording is the CLI's (`--flag: …`, exit 2).
 */

/** A duration flag: `500ms`, `5s`, `5m`, `1h`. A bare number is refused (seconds or milliseconds?). */
export function durationFlag(flag: string, value: string, minMs: number): number {
  const ms = /[a-z]\s*$/i.test(value) ? parseDuration(value) : undefined;
  if (ms === undefined) throw new UsageError(`${flag}: expected a duration with a unit such as 500ms, 5s or 5m, got ${JSON.stringify(value)}`);
  if (!duration(minMs)(value).ok) throw new UsageError(`${flag}: must be at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`}, got ${JSON.stringify(value)}`);
  return ms;
}

export function portFlag(flag: string, value: string): number {
  const r = /^\d+$/.test(value.trim()) ? port(value) : undefined;
  if (r === undefined || !r.ok) throw new UsageError(`${flag}: expected a port from 0 to 65535, got ${JSON.stringify(value)}`);
  return r.value;
}

export function urlFlag(flag: string, value: string): URL {
  if (httpUrl(value).ok) return new URL(value);
  if (!URL.canParse(value)) throw new UsageError(`${flag}: not a valid URL: ${JSON.stringify(value)} (expected e.g. http://prometheus:9090)`);
  throw new UsageError(`${flag}: expected an http or https URL, got ${new URL(value).protocol}`);
}

/** The package version (common/version.ts). */
export function packageVersion(): string {
  return VERSION;
}

/** Milliseconds as a short duration: 300000 → 5m, 1500 → 1.5s. */
export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
