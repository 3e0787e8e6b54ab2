import { abortReason, deadline } from './abort';
import { ms, round } from './format';
import { checkOptions } from './options';
import { responseTimeCheck, responseTimeOutcome } from './response-time';
import { errorMessage, redactUrl, urlSecrets } from './redact';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

export interface UpstreamCheckOptions {
  /** Short name (`llm`, `tts`); the check is called `upstream:<name>`. */
  readonly name: string;
  /** Ideally a cheap endpoint: a status page or a model list, not a generation. */
  readonly url: string;
  /** Default GET. HEAD saves the body where the API allows it. */
  readonly method?: 'GET' | 'HEAD';
  /** Accepted statuses. Default any 2xx. Redirects are not followed, so list a 3xx if it is expected. */
  readonly expectedStatus?: number | readonly number[];
  /** Sent with the request (an API key, say); never reported. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Default false: every instance shares a provider outage and none can fix it, so it degrades
   * the service (the app can say "try again later") rather than take instances out of rotation.
   */
  readonly required?: boolean;
  /** Default 30000 ms: third-party APIs rate-limit and some bill per call. */
  readonly intervalMs?: number;
  /** Default 10000 ms. */
  readonly timeoutMs?: number;
  /** Response time (to headers) above which the check warns. Default 2000 ms. */
  readonly slowMs?: number;
}

export const UPSTREAM_DEFAULTS = {
  method: 'GET',
  required: false,
  intervalMs: 30_000,
  timeoutMs: 10_000,
  slowMs: 2_000,
} as const;

/**
 * An HTTP dependency (LLM, TTS, any API) probed with the global fetch. The value is the time to
 * response headers; the body is discarded unread. The URL in results has its userinfo and any
 * secret-looking query parameters masked.
 */
export function upstreamCheck(options: UpstreamCheckOptions): DependencyCheck {
  const o = checkOptions('upstreamCheck', UPSTREAM_DEFAULTS, options);
  const name = options.name.startsWith('upstream:') ? options.name : `upstream:${options.name}`;
  // Header values (and the token part of `Bearer <token>`) must not show up in a message either.
  const headerSecrets = Object.values(options.headers ?? {}).flatMap((v) => [v, v.split(/\s+/).pop() ?? '']);
  const secrets = [...urlSecrets(options.url, { userinfo: 'all' }), ...headerSecrets];
  const shownUrl = redactUrl(options.url, { userinfo: 'all' });
  const accepts = acceptor(options.expectedStatus);

  // fetch refuses URLs with credentials: move them to a Basic Authorization header.
  let request: URL;
  try {
    request = new URL(options.url);
  } catch {
    throw new TypeError(`upstreamCheck "${name}": invalid url ${shownUrl}`);
  }
  const headers = new Headers(options.headers);
  if (request.username !== '' || request.password !== '') {
    if (!headers.has('authorization')) {
      const user = decodeURIComponent(request.username);
      const pass = decodeURIComponent(request.password);
      headers.set('authorization', `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
    }
    request.username = '';
    request.password = '';
  }
  const href = request.toString();

  async function run(parent: AbortSignal): Promise<CheckOutcome> {
    const dl = deadline(parent, o.timeoutMs);
    const base = {
      measurement: 'responseTime',
      unit: 'ms',
      threshold: `≤${o.slowMs}ms`,
    } as const;
    const details: Record<string, unknown> = { url: shownUrl, method: o.method, expectedStatus: accepts.label };
    const t0 = performance.now();
    try {
      let res: Response;
      try {
        res = await fetch(href, { method: o.method, headers, signal: dl.signal, redirect: 'manual' });
      } catch (err) {
        const why = dl.signal.aborted ? abortReason(dl.signal).message : errorMessage(err, secrets);
        return { ...base, status: 'fail', message: `request failed: ${why}`, details };
      }
      const elapsed = performance.now() - t0;
      // Unread bodies hold the connection; nothing in them is reported.
      await res.body?.cancel().catch(() => {});
      details.statusCode = res.status;
      details.responseTimeMs = round(elapsed);
      let status: CheckStatus = 'pass';
      let message: string | undefined;
      if (!accepts.test(res.status)) {
        status = 'fail';
        message = `unexpected status ${res.status} (expected ${accepts.label})`;
      } else if (elapsed > o.slowMs) {
        status = 'warn';
        message = `response time ${ms(elapsed)} > ${o.slowMs}ms`;
      }
      return responseTimeOutcome(base, status, elapsed, message !== undefined ? [message] : [], details);
    } finally {
      dl.dispose();
    }
  }

  return responseTimeCheck({ ...o, name }, 'integrations', run);
}

function acceptor(expected: number | readonly number[] | undefined): { test(s: number): boolean; label: string } {
  if (expected === undefined) return { test: (s) => s >= 200 && s < 300, label: '2xx' };
  const set = new Set(typeof expected === 'number' ? [expected] : expected);
  return { test: (s) => set.has(s), label: [...set].join('|') };
}
