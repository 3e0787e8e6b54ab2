import { bool, int, list, oneOf, setting, SettingsReader, envValue, text, httpUrl, type Env, type Parser, type Rejection } from '../../common/config';
import { DEFAULT_LIMITS, type RecorderLimits } from '../metrics/recorder';
import { STREAM_FORMATS, type StreamFormatName, type StreamSettings } from '../streams/formats/rules';

export type { Env };

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
  /**
   * OTEL_METRICS_EXPORTER was not set: the exporter is Chatpulse's own default, which stands down
   * when the app builds OpenTelemetry metric readers of its own (Chatpulse's metrics then go
   * through those). An exporter that was asked for stays.
   */
  readonly defaultExporter: boolean;
  /** Add Chatpulse's metrics to the readers of the app's own OpenTelemetry SDK. */
  readonly joinAppSdk: boolean;
  /** Note the Postgres and Redis servers the app's clients connect to (zero-code health checks them). */
  readonly discoverDependencies: boolean;
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
  /**
   * Split each stream's time to first token around the model call it waited for (app before, model,
   * app after): needs the HTTP and GenAI hooks, and tracks each request's async context.
   */
  readonly firstTokenBreakdown: boolean;
}

/** One configuration value that was rejected, with the default used instead. */
export type ConfigProblem = Rejection;

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

/** A JSON field path (`choices.0.delta.content`): dot-separated names or indexes. */
const fieldPath: Parser<string[]> = (raw) =>
  typeof raw === 'string' && /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(raw.trim())
    ? { ok: true, value: raw.trim().split('.') }
    : { ok: false, reason: 'expected a dot-separated JSON field path such as choices.0.delta.content' };

/**
 * The instrumentation's plain settings, each described once (common/config). The zero-code hook
 * resolves them in fall-back mode; `start()` turns the rejections into a ChatpulseConfigError.
 * A new variable is one more line here and one more field where the config is assembled below.
 */
export const INSTRUMENTATION_SETTINGS = Object.freeze({
  disabled: setting({ key: 'disabled', env: 'OTEL_SDK_DISABLED', parse: bool, default: false }),
  prometheusHost: setting({ key: 'prometheus.host', env: 'OTEL_EXPORTER_PROMETHEUS_HOST', parse: text, default: 'localhost' }),
  prometheusPort: setting({ key: 'prometheus.port', env: 'OTEL_EXPORTER_PROMETHEUS_PORT', parse: int(0, 65535), default: 9464 }),
  temporality: setting({
    key: 'otlp.temporality',
    env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    parse: oneOf(['cumulative', 'delta', 'lowmemory'] as const),
    default: 'cumulative' as TemporalityPreference,
  }),
  exportIntervalMillis: setting({ key: 'exportIntervalMillis', env: 'OTEL_METRIC_EXPORT_INTERVAL', parse: int(100, 86_400_000), default: 60_000 }),
  exportTimeoutMillis: setting({ key: 'exportTimeoutMillis', env: 'OTEL_METRIC_EXPORT_TIMEOUT', parse: int(1, 600_000), default: 30_000 }),
  sseAudio: setting({ key: 'sse.audio', env: 'CHATPULSE_SSE_AUDIO_EVENTS', parse: list, default: ['audio'], blankIsValue: true }),
  sseError: setting({ key: 'sse.error', env: 'CHATPULSE_SSE_ERROR_EVENTS', parse: list, default: ['error'], blankIsValue: true }),
  sseIgnored: setting({
    key: 'sse.ignored',
    env: 'CHATPULSE_SSE_IGNORE_EVENTS',
    parse: list,
    default: [...DEFAULT_IGNORED],
    blankIsValue: true,
  }),
  streamFormat: setting({ key: 'sse.format', env: 'CHATPULSE_STREAM_FORMAT', parse: oneOf(STREAM_FORMATS), default: 'auto' as StreamFormatName }),
  sseTokenEvents: setting({ key: 'sse.tokenEvents', env: 'CHATPULSE_SSE_TOKEN_EVENTS', parse: list, default: [] as string[] }),
  tokenField: setting({ key: 'sse.tokenField', env: 'CHATPULSE_TOKEN_FIELD', parse: fieldPath, default: [] as string[], defaultText: 'the detected format' }),
  maxRoutes: setting({ key: 'limits.maxRoutes', env: 'CHATPULSE_MAX_ROUTES', parse: int(1, 10_000), default: DEFAULT_LIMITS.maxRoutes }),
  maxSeries: setting({ key: 'limits.maxSeriesPerMetric', env: 'CHATPULSE_MAX_SERIES', parse: int(10, 100_000), default: DEFAULT_LIMITS.maxSeriesPerMetric }),
  shutdownTimeoutMillis: setting({ key: 'shutdownTimeoutMillis', env: 'CHATPULSE_SHUTDOWN_TIMEOUT', parse: int(0, 60_000), default: 3_000 }),
  hookHttp: setting({ key: 'hooks.http', env: 'CHATPULSE_INSTRUMENT_HTTP', parse: bool, default: true }),
  hookIoredis: setting({ key: 'hooks.ioredis', env: 'CHATPULSE_INSTRUMENT_IOREDIS', parse: bool, default: true }),
  hookPg: setting({ key: 'hooks.pg', env: 'CHATPULSE_INSTRUMENT_PG', parse: bool, default: true }),
  hookGenai: setting({ key: 'hooks.genai', env: 'CHATPULSE_INSTRUMENT_GENAI', parse: bool, default: true }),
  // Async context per request (AsyncLocalStorage) to link a stream to its model call: opt-in, it
  // cost ~9 points of throughput on Node 20 (bench/README.md, "first-token breakdown").
  firstTokenBreakdown: setting({ key: 'firstTokenBreakdown', env: 'CHATPULSE_FIRST_TOKEN_BREAKDOWN', parse: bool, default: false }),
  maxModels: setting({ key: 'limits.maxModels', env: 'CHATPULSE_MAX_MODELS', parse: int(1, 1_000), default: DEFAULT_LIMITS.maxModels! }),
  joinAppSdk: setting({ key: 'joinAppSdk', env: 'CHATPULSE_JOIN_APP_SDK', parse: bool, default: true }),
  discoverDependencies: setting({ key: 'discoverDependencies', env: 'CHATPULSE_DISCOVER_DEPENDENCIES', parse: bool, default: true }),
});

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

function parseCachePrefixes(r: SettingsReader, env: Env): CachePrefix[] {
  const fallback = 'kb=kb:,tts=tts:';
  const v = envValue(env, 'CHATPULSE_CACHE_PREFIXES') ?? fallback;
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

const isHttpUrl = (v: string): boolean => httpUrl(v).ok;

function otlpUrl(r: SettingsReader, env: Env): string {
  const fallback = 'http://localhost:4318/v1/metrics';
  const base = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  let generic = fallback;
  if (base !== undefined) {
    if (isHttpUrl(base)) generic = base.replace(/\/+$/, '') + '/v1/metrics';
    else r.reject('OTEL_EXPORTER_OTLP_ENDPOINT', base, 'expected an http(s) URL', 'http://localhost:4318');
  }
  const specific = envValue(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  if (specific !== undefined) {
    if (isHttpUrl(specific)) return specific;
    // The fallback named is the one actually used: the generic endpoint when it is valid.
    r.reject('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', specific, 'expected an http(s) URL', generic);
  }
  return generic;
}

function exporters(r: SettingsReader, env: Env): ExporterName[] {
  const name = 'OTEL_METRICS_EXPORTER';
  const v = envValue(env, name);
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
  const r = new SettingsReader('fallback', env);
  const s = r.readAll(INSTRUMENTATION_SETTINGS);
  const headersRaw = envValue(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS') ?? envValue(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  let headers: Record<string, string> = {};
  if (headersRaw !== undefined) {
    const parsed = parseOtlpHeaders(headersRaw);
    const which = envValue(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
    if (typeof parsed === 'string') r.reject(which, headersRaw, parsed, 'no headers', true);
    else headers = parsed;
  }
  // OTEL_EXPORTER_OTLP_METRICS_<X> wins over OTEL_EXPORTER_OTLP_<X>, and a problem names the one that was read.
  const otlpVar = (suffix: string): string =>
    envValue(env, `OTEL_EXPORTER_OTLP_METRICS_${suffix}`) !== undefined ? `OTEL_EXPORTER_OTLP_METRICS_${suffix}` : `OTEL_EXPORTER_OTLP_${suffix}`;
  let protocol = r.read(setting({ key: 'otlp.protocol', env: otlpVar('PROTOCOL'), parse: oneOf(['http/protobuf', 'http/json', 'grpc'] as const), default: 'http/protobuf' as const }));
  if (protocol === 'grpc') {
    r.reject(otlpVar('PROTOCOL'), 'grpc', 'gRPC is not supported; use an OTLP/HTTP endpoint (port 4318)', 'http/protobuf');
    protocol = 'http/protobuf';
  }
  const config: InstrumentationConfig = {
    disabled: s.disabled,
    exporters: exporters(r, env),
    defaultExporter: envValue(env, 'OTEL_METRICS_EXPORTER') === undefined,
    joinAppSdk: s.joinAppSdk,
    discoverDependencies: s.discoverDependencies,
    prometheus: { host: s.prometheusHost, port: s.prometheusPort },
    otlp: {
      url: otlpUrl(r, env),
      headers: Object.freeze(headers),
      protocol,
      timeoutMillis: r.read(setting({ key: 'otlp.timeoutMillis', env: otlpVar('TIMEOUT'), parse: int(1, 600_000), default: 10_000 })),
      compression: r.read(setting({ key: 'otlp.compression', env: otlpVar('COMPRESSION'), parse: oneOf(['gzip', 'none'] as const), default: 'none' as const })),
      temporality: s.temporality,
    },
    exportIntervalMillis: s.exportIntervalMillis,
    exportTimeoutMillis: s.exportTimeoutMillis,
    sse: {
      audio: new Set(s.sseAudio),
      error: new Set(s.sseError),
      ignored: new Set(s.sseIgnored),
      format: s.streamFormat,
      tokenEvents: new Set(s.sseTokenEvents),
      tokenField: s.tokenField,
    },
    cachePrefixes: Object.freeze(parseCachePrefixes(r, env)),
    limits: Object.freeze({ maxRoutes: s.maxRoutes, maxSeriesPerMetric: s.maxSeries, maxCaches: DEFAULT_LIMITS.maxCaches, maxModels: s.maxModels }),
    shutdownTimeoutMillis: s.shutdownTimeoutMillis,
    hooks: Object.freeze({ http: s.hookHttp, ioredis: s.hookIoredis, pg: s.hookPg, genai: s.hookGenai }),
    firstTokenBreakdown: s.firstTokenBreakdown && s.hookHttp && s.hookGenai,
  };
  return { config: deepFreeze(config), problems: r.rejections };
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
