import { DEFAULT_LIMITS, type RecorderLimits } from '../metrics/recorder';
import { STREAM_FORMATS, type StreamFormatName, type StreamSettings } from '../streams/formats/rules';

export type ExporterName = 'prometheus' | 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory';

export interface CachePrefix {
  readonly name: string;
  readonly prefix: string;
}

/** The resolved, validated, frozen instrumentation configuration. */
export interface InstrumentationConfig {
  /** `OTEL_SDK_DISABLED=true`: no hooks, no exporters. */
  readonly disabled: boolean;
  readonly exporters: readonly ExporterName[];
  readonly prometheus: { readonly host: string; readonly port: number };
  readonly otlp: {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly protocol: OtlpProtocol;
    readonly timeoutMillis: number;
    readonly compression: 'gzip' | 'none';
    readonly temporality: TemporalityPreference;
  };
  readonly exportIntervalMillis: number;
  readonly exportTimeoutMillis: number;
  /** How streams are read: event names by meaning, the wire format, token overrides. */
  readonly sse: StreamSettings;
  readonly cachePrefixes: readonly CachePrefix[];
  readonly limits: RecorderLimits;
  readonly shutdownTimeoutMillis: number;
  /** Which automatic hooks to install. */
  readonly hooks: { readonly http: boolean; readonly ioredis: boolean; readonly pg: boolean; readonly genai: boolean };
}

/** One configuration value that was rejected, with the default used instead. */
export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly reason: string;
  readonly fallback: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Control events that frameworks send around the model's answer, by SSE event name or by a JSON
 * payload's `type` / `event`: keepalives; LangServe and LangGraph (`metadata`, `end`,
 * `messages/metadata`); Flowise (`start`, `metadata`, `sourceDocuments`, `usedTools`, `end`); Dify
 * (`workflow_started`, `node_started`, `message_end`, …); Cohere v2 (`message-start`,
 * `content-start`, …); OpenAI Assistants (`thread.run.created`, …); and generic start, status and
 * done markers. Model APIs' own control events (OpenAI, Anthropic, AI SDK) are known by their
 * formats and need no entry here.
 */
export const DEFAULT_IGNORED: readonly string[] = Object.freeze([
  'ping', 'heartbeat', 'keepalive', 'keep-alive', 'done', 'end', 'close',
  'start', 'started', 'status', 'open', 'ready', 'connected', 'init', 'created', 'metadata',
  'stream_start', 'stream-start', 'stream_end', 'stream-end', 'run_start', 'run_end', 'finish',
  'messages/metadata', 'messages/complete', 'debug',
  'sourceDocuments', 'usedTools',
  'workflow_started', 'workflow_finished', 'node_started', 'node_finished', 'message_end', 'message_file', 'tts_message_end',
  'message-start', 'content-start', 'content-end', 'message-end',
  'thread.created', 'thread.run.created', 'thread.run.queued', 'thread.run.in_progress', 'thread.run.step.created',
  'thread.run.step.in_progress', 'thread.run.step.completed', 'thread.message.created', 'thread.message.in_progress',
  'thread.message.completed', 'thread.run.completed',
]);

/** Audio events by name. */
const DEFAULT_AUDIO = ['audio'];

/** A JSON field path (`choices.0.delta.content`): dot-separated names or indexes. */
const FIELD_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** Reads variables one at a time, recording every rejected value with the default it fell back to. */
class EnvReader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  reject(variable: string, value: string, reason: string, fallback: unknown): void {
    this.problems.push({ variable, value, reason, fallback: String(fallback) });
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
    this.reject(name, v, 'expected true or false', fallback);
    return fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.reject(name, v, `expected an integer from ${min} to ${max}`, fallback);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const l = v.toLowerCase() as T;
    if (allowed.includes(l)) return l;
    this.reject(name, v, `expected one of ${allowed.join(', ')}`, fallback);
    return fallback;
  }

  list(name: string, fallback: readonly string[]): string[] {
    const v = this.env[name];
    if (v === undefined) return [...fallback];
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  url(name: string, value: string): boolean {
    try {
      const u = new URL(value);
      if (u.protocol === 'http:' || u.protocol === 'https:') return true;
    } catch {
      // fall through
    }
    return false;
  }
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value`, values percent-encoded. */
export function parseOtlpHeaders(value: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `"${part.trim()}" is not key=value`;
    const key = part.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return `the value of "${key}" is not valid percent-encoding`;
    }
  }
  return out;
}

function parseCachePrefixes(r: EnvReader): CachePrefix[] {
  const fallback = 'kb=kb:,tts=tts:';
  const v = r.raw('CHATPULSE_CACHE_PREFIXES') ?? fallback;
  const out: CachePrefix[] = [];
  for (const part of v.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1) {
      r.reject('CHATPULSE_CACHE_PREFIXES', v, `"${p}" is not name=prefix`, fallback);
      return [
        { name: 'kb', prefix: 'kb:' },
        { name: 'tts', prefix: 'tts:' },
      ];
    }
    out.push({ name: p.slice(0, eq).trim(), prefix: p.slice(eq + 1).trim() });
  }
  // Longest prefix first, so `kb:v2:` wins over `kb:` for the keys it covers.
  return out.sort((a, b) => b.prefix.length - a.prefix.length);
}

function tokenField(r: EnvReader): string[] {
  const v = r.raw('CHATPULSE_TOKEN_FIELD');
  if (v === undefined) return [];
  if (!FIELD_PATH.test(v)) {
    r.reject('CHATPULSE_TOKEN_FIELD', v, 'expected a dot-separated JSON field path such as choices.0.delta.content', 'the detected format');
    return [];
  }
  return v.split('.');
}

function otlpUrl(r: EnvReader): string {
  const fallback = 'http://localhost:4318/v1/metrics';
  const base = r.raw('OTEL_EXPORTER_OTLP_ENDPOINT');
  let generic = fallback;
  if (base !== undefined) {
    if (r.url('OTEL_EXPORTER_OTLP_ENDPOINT', base)) generic = base.replace(/\/+$/, '') + '/v1/metrics';
    else r.reject('OTEL_EXPORTER_OTLP_ENDPOINT', base, 'expected an http(s) URL', 'http://localhost:4318');
  }
  const specific = r.raw('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (specific !== undefined) {
    if (r.url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', specific)) return specific;
    // The fallback named is the one actually used: the generic endpoint when it is valid.
    r.reject('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', specific, 'expected an http(s) URL', generic);
  }
  return generic;
}

function exporters(r: EnvReader): ExporterName[] {
  const name = 'OTEL_METRICS_EXPORTER';
  const v = r.raw(name);
  // Chatpulse's embedded default is a Prometheus scrape endpoint, so a bare start shows metrics.
  if (v === undefined) return ['prometheus'];
  const out = new Set<ExporterName>();
  for (const item of v.split(',').map((s) => s.trim().toLowerCase())) {
    if (item === 'none') return [];
    if (item === 'prometheus' || item === 'otlp' || item === 'console') out.add(item);
    else if (item !== '') r.reject(name, v, `unknown exporter "${item}" (known: prometheus, otlp, console, none)`, 'skipped');
  }
  return [...out];
}

/**
 * Resolves the configuration from environment variables. Never throws: every rejected value is
 * listed in `problems` with the default used, so the zero-code hook can warn and carry on while
 * the programmatic API turns problems into an error naming the variable.
 */
export function resolveConfig(env: Env): { config: InstrumentationConfig; problems: ConfigProblem[] } {
  const r = new EnvReader(env);
  const disabled = r.bool('OTEL_SDK_DISABLED', false);
  const headersRaw = r.raw('OTEL_EXPORTER_OTLP_METRICS_HEADERS') ?? r.raw('OTEL_EXPORTER_OTLP_HEADERS');
  let headers: Record<string, string> = {};
  if (headersRaw !== undefined) {
    const parsed = parseOtlpHeaders(headersRaw);
    const which = r.raw('OTEL_EXPORTER_OTLP_METRICS_HEADERS') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
    if (typeof parsed === 'string') r.reject(which, '(redacted)', parsed, 'no headers');
    else headers = parsed;
  }
  const metricsOr = <T>(suffix: string, read: (name: string) => T): T =>
    r.raw(`OTEL_EXPORTER_OTLP_METRICS_${suffix}`) !== undefined
      ? read(`OTEL_EXPORTER_OTLP_METRICS_${suffix}`)
      : read(`OTEL_EXPORTER_OTLP_${suffix}`);
  let protocol = metricsOr('PROTOCOL', (n) => r.oneOf(n, ['http/protobuf', 'http/json', 'grpc'] as const, 'http/protobuf'));
  if (protocol === 'grpc') {
    r.reject(r.raw('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'gRPC is not supported; use an OTLP/HTTP endpoint (port 4318)', 'http/protobuf');
    protocol = 'http/protobuf';
  }
  const config: InstrumentationConfig = {
    disabled,
    exporters: exporters(r),
    prometheus: {
      host: r.raw('OTEL_EXPORTER_PROMETHEUS_HOST') ?? 'localhost',
      port: r.int('OTEL_EXPORTER_PROMETHEUS_PORT', 9464, 0, 65535),
    },
    otlp: {
      url: otlpUrl(r),
      headers: Object.freeze(headers),
      protocol,
      timeoutMillis: metricsOr('TIMEOUT', (n) => r.int(n, 10_000, 1, 600_000)),
      compression: metricsOr('COMPRESSION', (n) => r.oneOf(n, ['gzip', 'none'] as const, 'none')),
      temporality: r.oneOf(
        'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
        ['cumulative', 'delta', 'lowmemory'] as const,
        'cumulative',
      ),
    },
    exportIntervalMillis: r.int('OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100, 86_400_000),
    exportTimeoutMillis: r.int('OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1, 600_000),
    sse: {
      audio: new Set(r.list('CHATPULSE_SSE_AUDIO_EVENTS', DEFAULT_AUDIO)),
      error: new Set(r.list('CHATPULSE_SSE_ERROR_EVENTS', ['error'])),
      ignored: new Set(r.list('CHATPULSE_SSE_IGNORE_EVENTS', DEFAULT_IGNORED)),
      format: r.oneOf<StreamFormatName>('CHATPULSE_STREAM_FORMAT', STREAM_FORMATS, 'auto'),
      tokenEvents: new Set(r.list('CHATPULSE_SSE_TOKEN_EVENTS', [])),
      tokenField: tokenField(r),
    },
    cachePrefixes: Object.freeze(parseCachePrefixes(r)),
    limits: Object.freeze({
      maxRoutes: r.int('CHATPULSE_MAX_ROUTES', DEFAULT_LIMITS.maxRoutes, 1, 10_000),
      maxSeriesPerMetric: r.int('CHATPULSE_MAX_SERIES', DEFAULT_LIMITS.maxSeriesPerMetric, 10, 100_000),
      maxCaches: DEFAULT_LIMITS.maxCaches,
      maxModels: r.int('CHATPULSE_MAX_MODELS', DEFAULT_LIMITS.maxModels!, 1, 1_000),
    }),
    shutdownTimeoutMillis: r.int('CHATPULSE_SHUTDOWN_TIMEOUT', 3_000, 0, 60_000),
    hooks: Object.freeze({
      http: r.bool('CHATPULSE_INSTRUMENT_HTTP', true),
      ioredis: r.bool('CHATPULSE_INSTRUMENT_IOREDIS', true),
      pg: r.bool('CHATPULSE_INSTRUMENT_PG', true),
      genai: r.bool('CHATPULSE_INSTRUMENT_GENAI', true),
    }),
  };
  return { config: deepFreeze(config), problems: r.problems };
}

function rejectMutation(): never {
  throw new TypeError('chatpulse configuration is frozen');
}

/** Object.freeze does not stop Set.add: frozen sets get throwing mutators as own properties. */
function freezeSet(set: Set<unknown>): void {
  Object.defineProperties(set, {
    add: { value: rejectMutation },
    delete: { value: rejectMutation },
    clear: { value: rejectMutation },
  });
  Object.freeze(set);
}

function deepFreeze<T>(o: T): T {
  if (o instanceof Set) {
    if (!Object.isFrozen(o)) freezeSet(o);
  } else if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Formats a problem as the one-line warning the zero-code hook prints. */
export function describeProblem(p: ConfigProblem): string {
  return `invalid ${p.variable}=${JSON.stringify(p.value)}: ${p.reason}; using ${p.fallback}`;
}
