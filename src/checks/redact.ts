/**
 * Keeps credentials out of check results. Health responses are often public or logged, so every
 * target URL and every error message passes through here before it reaches `message` or `details`.
 */
import { ChatpulseError } from '../../common/errors';

const MASK = '***';
/** Query parameter names that carry secrets (`api_key`, `access_token`, `X-Amz-Signature`, …). */
const SECRET_PARAM = /key|token|secret|pass|pwd|sig|credential|auth|session/i;
/** `scheme://user:password@` anywhere in free text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi;
/** libpq `password=…`, `sslpassword=…`, and query-string style `token=…` in free text. */
const KEY_VALUE = /\b(\w*pass(?:word|wd)?|\w*secret|\w*token|api[_-]?key)(\s*=\s*)('(?:[^'\\]|\\.)*'|"[^"]*"|[^\s&;,)]+)/gi;
/** `ALTER ROLE … PASSWORD '…'` as pg_stat_statements may store it verbatim. */
const SQL_PASSWORD = /\b(password\s+)'(?:[^']|'')*'/gi;
/** Authorization header values that ended up in a message. */
const AUTH_SCHEME = /\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
/** Shorter literals would turn ordinary words into `***`; those are caught by the patterns. */
const MIN_LITERAL = 3;
const MAX_MESSAGE = 400;

export interface RedactUrlOptions {
  /**
   * `password` keeps the user name (a database role is useful to see); `all` removes the whole
   * userinfo, for HTTP URLs where a lone user name is often a token.
   */
  readonly userinfo?: 'password' | 'all';
}

/** The URL with its password (or whole userinfo) and secret-looking query values masked. */
export function redactUrl(raw: string, options: RedactUrlOptions = {}): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL (a libpq `key=value` string, say): fall back to pattern redaction.
    return redactText(raw);
  }
  if (options.userinfo === 'all') {
    if (url.username !== '' || url.password !== '') {
      url.username = MASK;
      url.password = '';
    }
  } else if (url.password !== '') {
    url.password = MASK;
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, MASK);
  }
  if (url.hash !== '') url.hash = '';
  return url.toString();
}

/**
 * The secrets embedded in a URL (password, secret query values), for literal redaction of error
 * messages that may echo them. `userinfo: 'all'` counts the user name as a secret too.
 */
export function urlSecrets(raw: string | undefined, options: RedactUrlOptions = {}): string[] {
  if (raw === undefined) return [];
  const out: string[] = [];
  try {
    const url = new URL(raw);
    if (url.password !== '') out.push(url.password, safeDecode(url.password));
    if (options.userinfo === 'all' && url.username !== '') out.push(url.username, safeDecode(url.username));
    for (const [name, value] of url.searchParams) if (SECRET_PARAM.test(name)) out.push(value);
  } catch {
    const m = /\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(raw);
    if (m?.[1] !== undefined) out.push(m[1].replace(/^'|'$/g, ''));
  }
  return out;
}

/**
 * Masks credentials in free text: known secret literals (and their URL-encoded forms), URL
 * userinfo passwords, `password=` pairs, SQL `PASSWORD '…'` and Authorization values.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  const literals = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_LITERAL) continue;
    literals.add(s);
    literals.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...literals].sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
  return out
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(KEY_VALUE, (_m, key: string, eq: string) => `${key}${eq}${MASK}`)
    .replace(SQL_PASSWORD, (_m, kw: string) => `${kw}'${MASK}'`)
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${MASK}`);
}

/**
 * A short, credential-free description of an error. Node's network errors hide the useful part
 * in `cause` (fetch's "fetch failed") or `code`, so both are folded in.
 */
export function errorMessage(err: unknown, secrets: readonly string[] = []): string {
  let text: string;
  if (err instanceof Error) {
    text = err.message;
    // Dual-stack connects fail with an AggregateError whose own message is empty.
    if (text === '' && err instanceof AggregateError && err.errors.length > 0) {
      text = [...new Set(err.errors.map((e) => errorMessage(e)))].join('; ');
    }
    if (text === '') text = err.name;
    // A system or driver code (ECONNREFUSED, 57P01) says what the message may not; Chatpulse's own
    // errors (common/errors.ts) are written to be read as they are.
    const code = err instanceof ChatpulseError ? undefined : (err as { code?: unknown }).code;
    if (typeof code === 'string' && !text.includes(code)) text = `${text} (${code})`;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message !== '' && !text.includes(cause.message)) {
      text = `${text}: ${errorMessage(cause)}`;
    }
  } else {
    text = String(err);
  }
  if (text.length > MAX_MESSAGE) text = `${text.slice(0, MAX_MESSAGE)}…`;
  return redactText(text, secrets);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
