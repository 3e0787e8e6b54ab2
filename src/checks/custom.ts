/**
 * The app's own health checks (an auth service and its OAuth providers, an agent runtime, an MCP
 * server): functions the app owns, validated once at start and run by the same background
 * scheduler as the built-in checks, so they are graded, served and alerted on alike.
 */
import { duration as durationParser, SettingsReader, type Parser } from '../../common/config';
import { ChatpulseConfigError } from '../../common/errors';
import { sanitizeDetails } from './details';
import { errorMessage, redactText } from './redact';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

/** What one run of an app check reports. */
export interface HealthCheckResult {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly message?: string;
  /** Shown with `?details=true`; redacted (no credentials) and bounded in size. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An app-defined check, as given to `createHealth({ checks })` or exported by a checks module. */
export interface HealthCheck {
  /** `[a-z0-9_-]`, unique; also its endpoint, `/api/v1/health/<name>`. */
  readonly name: string;
  /** Runs once. `signal` is aborted at the timeout: pass it on to fetch, queries and timers. */
  check(context: { readonly signal: AbortSignal }): Promise<HealthCheckResult> | HealthCheckResult;
  /** A failing required check makes the service unhealthy; an optional one only degrades it. Default true. */
  readonly required?: boolean;
  /** `2s`, `500ms` or milliseconds. Default 2 s. */
  readonly timeout?: string | number;
  /** `10s`, `1m` or milliseconds. Default 10 s. */
  readonly interval?: string | number;
  /** Readiness groups select checks by tag (`CHATPULSE_READINESS=tag:auth`). */
  readonly tags?: readonly string[];
}

/** Every custom check's IETF component: they are served together as the `custom` section. */
export const CUSTOM_COMPONENT = 'custom';
export const CUSTOM_DEFAULTS = Object.freeze({ timeoutMs: 2_000, intervalMs: 10_000 });

const NAME = /^[a-z0-9_-]{1,64}$/;
const TAG = /^[a-z0-9_-]{1,64}$/;
const MAX_MESSAGE = 400;
/** Built-in checks' names and the paths already served under /api/v1/health/: a custom check's endpoint must not shadow them. */
export const RESERVED_CHECK_NAMES: ReadonlySet<string> = new Set([
  'database', 'redis', 'integrations', 'live', 'ready', 'deep', 'dashboard', 'alerts', 'stream', 'ui', 'custom', 'system',
]);
const FIELDS = new Set(['name', 'check', 'required', 'timeout', 'interval', 'tags']);
const TO_STATUS: Readonly<Record<string, CheckStatus>> = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' };

/**
 * Validates app checks and turns them into scheduler checks. `field` names where they came from
 * (`checks`, or the module's file) in the ChatpulseConfigError thrown at the first bad entry.
 */
export function customChecks(input: unknown, field: string, taken: readonly string[] = []): DependencyCheck[] {
  const fail = (at: string, message: string): never => {
    throw ChatpulseConfigError.of(at, message);
  };
  if (!Array.isArray(input)) fail(field, `expected an array of checks ({ name, check, required, timeout, interval, tags }), got ${describe(input)}`);
  const seen = new Set<string>();
  return (input as unknown[]).map((raw, i) => {
    const at = `${field}[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(at, `expected a check object, got ${describe(raw)}`);
    const c = raw as Record<string, unknown>;
    for (const k of Object.keys(c)) if (!FIELDS.has(k)) fail(`${at}.${k}`, `unknown field (known: ${[...FIELDS].join(', ')})`);
    const name = c.name;
    if (typeof name !== 'string' || !NAME.test(name)) fail(`${at}.name`, `expected 1 to 64 of a-z, 0-9, _ and -, got ${describe(name)}`);
    const n = name as string;
    if (RESERVED_CHECK_NAMES.has(n) || taken.includes(n)) fail(`${at}.name`, `"${n}" is taken by a built-in check or endpoint (reserved: ${[...RESERVED_CHECK_NAMES, ...taken].join(', ')})`);
    if (seen.has(n)) fail(`${at}.name`, `duplicate check name "${n}"`);
    seen.add(n);
    if (typeof c.check !== 'function') fail(`${at}.check`, `expected a function ({ signal }) => { status, message?, details? }, got ${describe(c.check)}`);
    if (c.required !== undefined && typeof c.required !== 'boolean') fail(`${at}.required`, 'expected true or false');
    const tags = c.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || !TAG.test(t))) fail(`${at}.tags`, 'expected an array of tags of a-z, 0-9, _ and -');
    return customCheck({
      name: n,
      run: c.check as HealthCheck['check'],
      required: (c.required as boolean | undefined) ?? true,
      timeoutMs: c.timeout === undefined ? CUSTOM_DEFAULTS.timeoutMs : parsed(`${at}.timeout`, c.timeout, durationParser(1)),
      intervalMs: c.interval === undefined ? CUSTOM_DEFAULTS.intervalMs : parsed(`${at}.interval`, c.interval, durationParser(100)),
      tags: Object.freeze([...(tags as string[])]),
    });
  });
}

function parsed<T>(field: string, v: unknown, parse: Parser<T>): T {
  return new SettingsReader('first').value(field, v, parse, undefined as T);
}

interface CustomSpec {
  readonly name: string;
  readonly run: HealthCheck['check'];
  readonly required: boolean;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly tags: readonly string[];
}

/** One app check as the scheduler runs it: whatever the function does, a safe outcome comes back. */
function customCheck(spec: CustomSpec): DependencyCheck {
  return {
    name: spec.name,
    component: CUSTOM_COMPONENT,
    measurement: 'status',
    required: spec.required,
    intervalMs: spec.intervalMs,
    timeoutMs: spec.timeoutMs,
    tags: spec.tags,
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      let result: unknown;
      try {
        result = await spec.run({ signal });
      } catch (err) {
        return { measurement: 'status', status: 'fail', message: thrownMessage(err) };
      }
      return outcome(result);
    },
  };
}

/** The app's result, coerced: a wrong shape grades unhealthy and says what came back. */
export function outcome(result: unknown): CheckOutcome {
  if (result === null || typeof result !== 'object') {
    return { measurement: 'status', status: 'fail', message: `check returned ${describe(result)}, expected { status: 'healthy' | 'degraded' | 'unhealthy' }` };
  }
  let r: Record<string, unknown>;
  try {
    r = { status: (result as Record<string, unknown>).status, message: (result as Record<string, unknown>).message, details: (result as Record<string, unknown>).details };
  } catch (err) {
    return { measurement: 'status', status: 'fail', message: `check result unreadable: ${thrownMessage(err)}` };
  }
  const status = typeof r.status === 'string' ? TO_STATUS[r.status] : undefined;
  const details = safely(() => sanitizeDetails(r.details), { unreadable: true });
  if (status === undefined) {
    return { measurement: 'status', status: 'fail', message: `check returned an invalid status ${describe(r.status)}, expected healthy, degraded or unhealthy`, ...(details ? { details } : {}) };
  }
  const message = typeof r.message === 'string' && r.message !== '' ? redactText(r.message.length > MAX_MESSAGE ? `${r.message.slice(0, MAX_MESSAGE)}…` : r.message) : undefined;
  return { measurement: 'status', status, ...(message !== undefined ? { message } : {}), ...(details ? { details } : {}) };
}

/** A thrown value's redacted message; a non-Error (or one whose message getter throws) cannot break it. */
function thrownMessage(err: unknown): string {
  return safely(() => errorMessage(err), 'check threw a value that cannot be described');
}

function safely<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** A short, safe description of a value for error messages (never its content when it is an object). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return safely(() => String(v), typeof v);
}
