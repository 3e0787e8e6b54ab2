import * as http from 'node:http';
import * as https from 'node:https';
import { parseArgs } from 'node:util';
import { durationFlag, packageVersion, UsageError, urlFlag, usageErrorOf, type Io } from './args';

export type Verdict = 'healthy' | 'degraded' | 'unhealthy' | 'unreachable';

/** Exit codes (the Nagios plugin convention: OK, WARNING, CRITICAL, UNKNOWN). */
export const EXIT_CODES: Readonly<Record<Verdict, number>> = Object.freeze({ healthy: 0, degraded: 1, unhealthy: 2, unreachable: 3 });

export interface ProbeResult {
  readonly verdict: Verdict;
  /** The URL probed, without credentials. */
  readonly url: string;
  readonly httpStatus?: number;
  /** Request to end of body (or to the failure). */
  readonly ms: number;
  /** The `status` field as the endpoint sent it. */
  readonly status?: string;
  /** Why it is not healthy, as the endpoint explained it. */
  readonly issues: readonly string[];
  /** Unreachable: what went wrong (connection refused, timeout, non-JSON, 401, 429, …). */
  readonly reason?: string;
}

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly token?: string;
}

export const PROBE_HELP = `Usage: chatpulse probe URL [--timeout 5s] [--token T] [--json]

Checks a Chatpulse health endpoint once, prints a one-line verdict and exits with its code:

  0  healthy      (status healthy, pass, ready, alive)
  1  degraded     (status degraded, warn)
  2  unhealthy    (status unhealthy, fail, not_ready)
  3  unreachable  (connection error, timeout, non-JSON answer, 401/403/429, no status field)

URL is a health endpoint (/api/v1/health, /api/metrics/health/streaming, /health,
/api/v1/health/ready, …) or a base URL such as http://app:9465, which means /api/v1/health.
Both Chatpulse's JSON and application/health+json bodies are understood.

Options:
  --timeout D   Give up after D (default 5s): connect, answer and body together
  --token T     Bearer token (default: $CHATPULSE_HEALTH_TOKEN, which keeps it out of ps)
  --json        Print the result as one JSON object instead of the verdict line
  -h, --help    Show this help

Example:
  chatpulse probe http://127.0.0.1:9465 || echo "chatbot is not healthy (exit $?)"`;

const HEALTHY = new Set(['healthy', 'pass', 'ok', 'up', 'alive', 'ready']);
const DEGRADED = new Set(['degraded', 'warn', 'warning']);
const UNHEALTHY = new Set(['unhealthy', 'fail', 'down', 'not_ready', 'critical']);

function verdictOf(status: unknown): Exclude<Verdict, 'unreachable'> | undefined {
  if (typeof status !== 'string') return undefined;
  const s = status.toLowerCase();
  return HEALTHY.has(s) ? 'healthy' : DEGRADED.has(s) ? 'degraded' : UNHEALTHY.has(s) ? 'unhealthy' : undefined;
}

/** A base URL (no path) means the main health endpoint. */
export function healthUrl(input: string): URL {
  const u = urlFlag('URL', input);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/api/v1/health';
  return u;
}

function displayUrl(u: URL): string {
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}

const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** Why the endpoint is not healthy, from whichever shape it answered in. */
export function issuesOf(body: Record<string, unknown>): string[] {
  if (Array.isArray(body.issues) && body.issues.length > 0) {
    return body.issues.map((i) => oneLine(typeof i === 'string' ? i : typeof (i as { message?: unknown })?.message === 'string' ? (i as { message: string }).message : JSON.stringify(i)));
  }
  // application/health+json: `output` summarises; readiness: `reason`.
  for (const k of ['output', 'reason'] as const) {
    const v = body[k];
    if (typeof v === 'string' && v.trim() !== '') return [oneLine(v)];
  }
  const out: string[] = [];
  const checks = body.checks;
  if (checks !== null && typeof checks === 'object') {
    for (const [name, c] of Object.entries(checks as Record<string, unknown>)) {
      // health+json: `component:measurement` → [{ componentId, status, output }]; Chatpulse's JSON: name → { status, value, message }.
      for (const e of Array.isArray(c) ? c : [c]) {
        if (e === null || typeof e !== 'object') continue;
        const r = e as { status?: unknown; componentId?: unknown; output?: unknown; message?: unknown; value?: unknown };
        const v = verdictOf(r.status);
        if (v === undefined || v === 'healthy') continue;
        const id = typeof r.componentId === 'string' ? r.componentId : name;
        const why = typeof r.output === 'string' ? r.output : typeof r.message === 'string' ? r.message : `${String(r.status)}${r.value !== undefined ? ` (${String(r.value)})` : ''}`;
        out.push(oneLine(`${id}: ${why}`));
      }
    }
  }
  // /api/v1/health: services → { status }.
  const services = body.services;
  if (out.length === 0 && services !== null && typeof services === 'object') {
    for (const [name, s] of Object.entries(services as Record<string, unknown>)) {
      const v = verdictOf((s as { status?: unknown } | null)?.status);
      if (v !== undefined && v !== 'healthy') out.push(`${name}: ${v}`);
    }
  }
  return out;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
};

const MAX_BODY = 1 << 20;

/** One GET, bounded by `timeoutMs` in all: connect, answer, body. Never rejects. */
export function probe(url: URL, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const shown = displayUrl(url);
  const ms = () => Math.round(performance.now() - started);
  const headers: Record<string, string> = {
    // Not health+json: Chatpulse's own body carries the issues as a list.
    accept: 'application/json',
    'user-agent': `chatpulse-probe/${packageVersion()}`,
    connection: 'close',
  };
  if (options.token !== undefined && options.token !== '') headers.authorization = `Bearer ${options.token}`;
  else if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const unreachable = (reason: string, httpStatus?: number): ProbeResult => ({ verdict: 'unreachable', url: shown, ms: ms(), issues: [], reason, ...(httpStatus === undefined ? {} : { httpStatus }) });

  return new Promise<ProbeResult>((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(displayUrl(url), { headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) finish(unreachable(`HTTP ${status}: response larger than 1 MiB`, status));
        else chunks.push(d);
      });
      res.on('error', (err) => finish(unreachable(`response cut off: ${(err as NodeJS.ErrnoException).code ?? err.message}`, status)));
      res.on('end', () => finish(interpret(status, res.headers, Buffer.concat(chunks).toString('utf8'))));
    });
    const timer = setTimeout(() => finish(unreachable(`timeout: no complete answer within ${formatTimeout(options.timeoutMs)}`)), options.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      finish(unreachable(NETWORK_REASONS[code] ? `${NETWORK_REASONS[code]} (${code})` : oneLine(err.message)));
    });

    function interpret(status: number, h: http.IncomingHttpHeaders, text: string): ProbeResult {
      const statusText = http.STATUS_CODES[status] ?? '';
      const label = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
      if (status === 401) {
        return unreachable(`${label}: ${options.token ? 'the token was rejected' : 'the endpoint needs a bearer token (--token or CHATPULSE_HEALTH_TOKEN)'}`, status);
      }
      if (status === 403) return unreachable(`${label}: access denied`, status);
      if (status === 429) {
        const retry = h['retry-after'];
        return unreachable(`${label}: rate limited${retry ? ` (retry after ${retry} s)` : ''}`, status);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        const type = (h['content-type'] ?? 'no content type').split(';')[0];
        return unreachable(`${label}: not JSON (${type})${status === 404 ? ': no health endpoint at this path' : ''}`, status);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return unreachable(`${label}: JSON without a status field`, status);
      const b = body as Record<string, unknown>;
      let verdict = verdictOf(b.status);
      if (verdict === undefined) {
        return unreachable(
          b.status === undefined ? `${label}: JSON without a status field` : `${label}: unknown status ${JSON.stringify(b.status)}`,
          status,
        );
      }
      // Readiness says ready while the service is degraded: report the health.
      const health = verdictOf(b.health);
      if (verdict === 'healthy' && health !== undefined) verdict = health;
      return {
        verdict,
        url: shown,
        httpStatus: status,
        ms: ms(),
        status: String(b.status),
        issues: verdict === 'healthy' ? [] : issuesOf(b),
      };
    }
  });
}

function formatTimeout(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** `healthy  http://…/api/v1/health  (12 ms)`, plus the issues or the reason. */
export function formatVerdict(r: ProbeResult): string {
  let line = `${r.verdict}  ${r.url}  (${r.ms} ms)`;
  if (r.reason !== undefined) line += `  ${r.reason}`;
  if (r.issues.length > 0) line += `  issues: ${r.issues.join('; ')}`;
  return line;
}

function probeFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        timeout: { type: 'string', default: '5s' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw usageErrorOf(err);
  }
}

/** `chatpulse probe …`: the exit code. */
export async function runProbe(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = probeFlags(argv);
  if (values.help) {
    io.out(PROBE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing URL (e.g. chatpulse probe http://127.0.0.1:9465)');
  if (positionals.length > 1) throw new UsageError(`expected one URL, got ${positionals.length}: ${positionals.join(' ')}`);
  const url = healthUrl(positionals[0]!);
  const timeoutMs = durationFlag('--timeout', values.timeout, 1);
  const token = values.token ?? (env.CHATPULSE_HEALTH_TOKEN?.trim() || undefined);
  const r = await probe(url, { timeoutMs, token });
  const code = EXIT_CODES[r.verdict];
  if (values.json) io.out(JSON.stringify({ ...r, exitCode: code }));
  else io.out(formatVerdict(r));
  return code;
}
