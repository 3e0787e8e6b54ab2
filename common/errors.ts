/**
 * Chatpulse's error catalogue (in the manner of fastify's lib/errors.js): every error Chatpulse
 * throws on purpose carries a stable `CHATPULSE_ERR_*` code, and the HTTP ones their status.
 * Callers branch on `code` (or `instanceof`), never on message text.
 *
 * | code                             | class                  | when                                                   |
 * | -------------------------------- | ---------------------- | ------------------------------------------------------ |
 * | CHATPULSE_ERR_CONFIG             | ChatpulseConfigError   | a setting is invalid; thrown once at start, naming it  |
 * | CHATPULSE_ERR_USAGE              | UsageError             | bad command line (the CLI exits 2)                     |
 * | CHATPULSE_ERR_BAD_REQUEST        | HttpError 400          | a query parameter, path or body is invalid             |
 * | CHATPULSE_ERR_UNAUTHORIZED       | HttpError 401          | a missing or wrong bearer token                        |
 * | CHATPULSE_ERR_NOT_FOUND          | HttpError 404          | an unknown path, alert, rule or unconfigured check     |
 * | CHATPULSE_ERR_METHOD_NOT_ALLOWED | HttpError 405          | a known path asked with a method it does not serve     |
 * | CHATPULSE_ERR_CONFLICT           | HttpError 409          | a transition the alert's state does not allow          |
 * | CHATPULSE_ERR_PAYLOAD_TOO_LARGE  | HttpError 413          | a request body over the endpoint's limit               |
 * | CHATPULSE_ERR_RATE_LIMITED       | HttpError 429          | a client over an endpoint's rate limit                 |
 * | CHATPULSE_ERR_INTERNAL           | (HTTP 500)             | a bug: logged with the request id, never detailed      |
 * | CHATPULSE_ERR_STORE_UNAVAILABLE  | StoreUnavailableError  | the alert store is not ready or failed (HTTP 503)      |
 * | CHATPULSE_ERR_ALREADY_APPLIED    | AlreadyAppliedError    | a spooled change replayed after it was applied; skipped|
 * | CHATPULSE_ERR_TIMEOUT            | TimeoutError           | a dependency check ran past its deadline               |
 */

export const ERROR_CODES = Object.freeze({
  CHATPULSE_ERR_CONFIG: 'CHATPULSE_ERR_CONFIG',
  CHATPULSE_ERR_USAGE: 'CHATPULSE_ERR_USAGE',
  CHATPULSE_ERR_BAD_REQUEST: 'CHATPULSE_ERR_BAD_REQUEST',
  CHATPULSE_ERR_UNAUTHORIZED: 'CHATPULSE_ERR_UNAUTHORIZED',
  CHATPULSE_ERR_NOT_FOUND: 'CHATPULSE_ERR_NOT_FOUND',
  CHATPULSE_ERR_METHOD_NOT_ALLOWED: 'CHATPULSE_ERR_METHOD_NOT_ALLOWED',
  CHATPULSE_ERR_CONFLICT: 'CHATPULSE_ERR_CONFLICT',
  CHATPULSE_ERR_PAYLOAD_TOO_LARGE: 'CHATPULSE_ERR_PAYLOAD_TOO_LARGE',
  CHATPULSE_ERR_RATE_LIMITED: 'CHATPULSE_ERR_RATE_LIMITED',
  CHATPULSE_ERR_INTERNAL: 'CHATPULSE_ERR_INTERNAL',
  CHATPULSE_ERR_STORE_UNAVAILABLE: 'CHATPULSE_ERR_STORE_UNAVAILABLE',
  CHATPULSE_ERR_ALREADY_APPLIED: 'CHATPULSE_ERR_ALREADY_APPLIED',
  CHATPULSE_ERR_TIMEOUT: 'CHATPULSE_ERR_TIMEOUT',
} as const);

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every catalogued error. */
export abstract class ChatpulseError extends Error {
  abstract readonly code: ErrorCode;
}

/** One invalid setting: the field (`thresholds.cpu.warn`, `CHATPULSE_HEALTH_WINDOW`, `--port`) and what is wrong. */
export interface ConfigProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * Invalid configuration, thrown once at start by every consumer that throws (start(), the health
 * service, the alerts section, `chatpulse serve`). Lists every problem found, each naming its field.
 */
export class ChatpulseConfigError extends ChatpulseError {
  readonly code = ERROR_CODES.CHATPULSE_ERR_CONFIG;
  readonly problems: readonly ConfigProblem[];

  /** `message` defaults to the problems as `field: message; …`. */
  constructor(problems: readonly ConfigProblem[], message?: string) {
    super(message ?? problems.map(describe).join('; '));
    this.name = 'ChatpulseConfigError';
    this.problems = Object.freeze([...problems]);
  }

  /** The first offending field (a config-file path or an environment variable). */
  get field(): string {
    return this.problems[0]?.field ?? '';
  }

  /** Every offending field, in order. */
  get variables(): string[] {
    return this.problems.map((p) => p.field);
  }

  /** Every problem as `field: message`. */
  get errors(): string[] {
    return this.problems.map(describe);
  }

  /** From `field: message` lines, as the rule validator reports them. */
  static fromMessages(lines: readonly string[]): ChatpulseConfigError {
    return new ChatpulseConfigError(
      lines.map((l) => {
        const i = l.indexOf(': ');
        return i === -1 ? { field: '', message: l } : { field: l.slice(0, i), message: l.slice(i + 2) };
      }),
    );
  }

  /** One problem (the health config's fail-on-first style). */
  static of(field: string, message: string): ChatpulseConfigError {
    return new ChatpulseConfigError([{ field, message }]);
  }
}

function describe(p: ConfigProblem): string {
  return p.field === '' ? p.message : `${p.field}: ${p.message}`;
}

/** Bad command-line usage: printed as one line, exit code 2. */
export class UsageError extends ChatpulseError {
  readonly code = ERROR_CODES.CHATPULSE_ERR_USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HTTP_CODES = {
  400: ERROR_CODES.CHATPULSE_ERR_BAD_REQUEST,
  401: ERROR_CODES.CHATPULSE_ERR_UNAUTHORIZED,
  404: ERROR_CODES.CHATPULSE_ERR_NOT_FOUND,
  405: ERROR_CODES.CHATPULSE_ERR_METHOD_NOT_ALLOWED,
  409: ERROR_CODES.CHATPULSE_ERR_CONFLICT,
  413: ERROR_CODES.CHATPULSE_ERR_PAYLOAD_TOO_LARGE,
  429: ERROR_CODES.CHATPULSE_ERR_RATE_LIMITED,
} as const;
export type HttpErrorStatus = keyof typeof HTTP_CODES;

/** The stable code an error answer of this status carries (`code` next to `error` in every error body). */
export function codeForStatus(status: number): ErrorCode {
  if (status === 503) return ERROR_CODES.CHATPULSE_ERR_STORE_UNAVAILABLE;
  return (HTTP_CODES as Record<number, ErrorCode>)[status] ?? (status >= 500 ? ERROR_CODES.CHATPULSE_ERR_INTERNAL : ERROR_CODES.CHATPULSE_ERR_BAD_REQUEST);
}

/**
 * An HTTP request Chatpulse refuses. The response body is `{ error: message, ...extra, requestId }`
 * (src/http/toolkit.ts), the same on every endpoint.
 */
export class HttpError extends ChatpulseError {
  readonly code: ErrorCode;
  constructor(
    readonly statusCode: HttpErrorStatus,
    message: string,
    /** Fields added to the body next to `error`, e.g. `{ errors: [...] }`. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.code = HTTP_CODES[statusCode];
  }
}

/** 400 with the body `{ error }`. */
export function badRequest(message: string, extra?: Record<string, unknown>): HttpError {
  return new HttpError(400, message, extra);
}

/** 404 with the body `{ error }`. */
export function notFound(message: string, extra?: Record<string, unknown>): HttpError {
  return new HttpError(404, message, extra);
}

/** The alert store could not be reached or failed: the API answers 503, evaluation logs and goes on. */
export class StoreUnavailableError extends ChatpulseError {
  readonly code = ERROR_CODES.CHATPULSE_ERR_STORE_UNAVAILABLE;
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A spooled change (accepted while the store was down) whose idempotency key the store has
 * already recorded: it was applied before (its answer was lost, or the process crashed before the
 * spool forgot it), so the replay skips it. Never reaches a client.
 */
export class AlreadyAppliedError extends ChatpulseError {
  readonly code = ERROR_CODES.CHATPULSE_ERR_ALREADY_APPLIED;
  constructor(readonly key: string) {
    super(`change ${key} was already applied`);
    this.name = 'AlreadyAppliedError';
  }
}

/** A bounded operation (a dependency check) ran past its deadline; the message is what results show. */
export class TimeoutError extends ChatpulseError {
  readonly code = ERROR_CODES.CHATPULSE_ERR_TIMEOUT;
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}
