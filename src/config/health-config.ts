import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { INSTANCE_READINESS, readinessParser, type ReadinessScope } from '../service/readiness';
import { trustProxyParser, TRUST_NONE, type TrustProxy } from '../http/client-address';
import { DEFAULT_THRESHOLDS, KPI_KEYS, KPIS, type KpiKey, type KpiThresholds } from '../grading/kpis';
import { ChatpulseConfigError } from '../../common/errors';
import { bool as boolParser, duration as durationParser, httpUrl, int, nonNegative, setting, SettingsReader, text, url as urlParser, type Env, type Parser } from '../../common/config';

/** A rate limit: `limit` requests per `windowMs` per client IP, per endpoint. */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

export interface UpstreamConfig {
  readonly name: string;
  readonly url: string;
  readonly expectedStatus?: number;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly required: boolean;
}

export interface DependencyConfig {
  /** The server's URL; for a Redis Cluster, its first seed node. */
  readonly url: string;
  /** Redis Cluster: every seed node's URL (REDIS_CLUSTER_NODES or `redis.clusterNodes`). */
  readonly clusterNodes?: readonly string[];
  readonly required: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** How a dependency is checked, apart from where it is. */
export type DependencySchedule = Pick<DependencyConfig, 'required' | 'intervalMs' | 'timeoutMs'>;

/** The resolved, validated, frozen health configuration. */
export interface HealthConfig {
  /** Port of the standalone health server (zero-code mode); undefined = not served. */
  readonly port: number | undefined;
  readonly host: string;
  readonly windowMs: number;
  readonly evaluationIntervalMs: number;
  readonly minSamples: number;
  /** Consecutive evaluations a new status needs before it is reported. */
  readonly hysteresis: number;
  readonly thresholds: Readonly<Record<KpiKey, KpiThresholds>>;
  readonly disabledKpis: ReadonlySet<KpiKey>;
  readonly token: string | undefined;
  /** Endpoint path → limit; an endpoint not listed is not limited. */
  readonly rateLimits: Readonly<Record<string, RateLimit>>;
  /** Proxies trusted to name the client in X-Forwarded-For (rate limits); off by default. */
  readonly trustProxy: TrustProxy;
  /** What /ready answers for (src/service/readiness.ts): required dependencies and event-loop saturation by default. */
  readonly readiness: ReadinessScope;
  readonly database: DependencyConfig | undefined;
  readonly redis: DependencyConfig | undefined;
  /**
   * How the servers the app's own clients connect to are checked in zero-code mode, when no URL
   * names them (CHATPULSE_DATABASE_REQUIRED and the file's interval and timeout apply);
   * undefined when the file switches that dependency off (`database: false`).
   */
  readonly discovered: { readonly database: DependencySchedule | undefined; readonly redis: DependencySchedule | undefined };
  readonly upstreams: readonly UpstreamConfig[];
  readonly diskPath: string;
  /** How long open streams may drain after SIGTERM before the process exits. */
  readonly drainTimeoutMs: number;
  readonly debug: boolean;
  /** The file's `alerts` section, validated by the alerts module at its own start. */
  readonly alertsInput: unknown;
  /** CHATPULSE_ALERT_INTERVAL: overrides `alerts.evaluationInterval`; undefined = the section's (default 30 s). */
  readonly alertIntervalMs: number | undefined;
  /** CHATPULSE_ALERT_WEBHOOK_URL: overrides `alerts.webhook.url`. */
  readonly alertWebhookUrl: string | undefined;
  /** CHATPULSE_ALERT_API_TIMEOUT: overrides `alerts.apiTimeout` (default 500 ms). */
  readonly alertApiTimeoutMs: number | undefined;
  /** CHATPULSE_ALERT_SPOOL_DIR: overrides `alerts.spool.dir`. */
  readonly alertSpoolDir: string | undefined;
  /** The file the configuration came from, if any (PUT of a rule writes back to it). */
  readonly file: string | undefined;
  /** The app's checks module (absolute path) and the setting that named it; loaded once at start. */
  readonly healthChecks?: { readonly file: string; readonly field: string } | undefined;
}

/** The JSON/YAML file shape (and the programmatic input): every field optional. */
export interface HealthConfigInput {
  port?: number;
  host?: string;
  window?: string | number;
  evaluationInterval?: string | number;
  minSamples?: number;
  hysteresis?: number;
  thresholds?: Partial<Record<KpiKey, Partial<KpiThresholds>>>;
  disabledKpis?: KpiKey[];
  token?: string;
  rateLimits?: Record<string, { limit: number; window: string | number } | false>;
  /** false, a hop count, or addresses/subnets (`10.0.0.0/8`, `loopback`), as Express's `trust proxy`. */
  trustProxy?: boolean | number | string | string[];
  /** Members of the readiness group: required, kpis, a KPI key, a check name, tag:<tag>. */
  readiness?: string[] | string;
  database?: { url?: string; required?: boolean; interval?: string | number; timeout?: string | number } | false;
  redis?: { url?: string; clusterNodes?: string[]; required?: boolean; interval?: string | number; timeout?: string | number } | false;
  upstreams?: { name: string; url: string; expectedStatus?: number; timeout?: string | number; interval?: string | number; required?: boolean }[];
  diskPath?: string;
  drainTimeout?: string | number;
  debug?: boolean;
  alerts?: unknown;
  /** The app's checks module (CommonJS or ESM), relative to this file. */
  healthChecks?: string;
}

/** The health configuration's error is the catalogue's ChatpulseConfigError; the old name stays an alias. */
export { ChatpulseConfigError as HealthConfigError };

/** Per-client limits by endpoint; probes (live, ready) are never limited. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = Object.freeze({
  '/health': { limit: 60, windowMs: 60_000 },
  '/api/v1/health': { limit: 60, windowMs: 60_000 },
  '/api/v1/health/deep': { limit: 20, windowMs: 60_000 },
  '/api/v1/health/database': { limit: 30, windowMs: 60_000 },
  '/api/v1/health/redis': { limit: 30, windowMs: 60_000 },
  '/api/v1/health/integrations': { limit: 30, windowMs: 60_000 },
  '/api/v1/health/dashboard': { limit: 30, windowMs: 60_000 },
  '/api/v1/health/dashboard/summary': { limit: 30, windowMs: 60_000 },
  '/api/v1/health/alerts': { limit: 20, windowMs: 60_000 },
  '/api/metrics/health/streaming': { limit: 60, windowMs: 60_000 },
  '/api/metrics/streaming': { limit: 60, windowMs: 60_000 },
  '/api/metrics/streaming/summary': { limit: 60, windowMs: 60_000 },
  '/api/metrics/streaming/events': { limit: 30, windowMs: 60_000 },
});


function fail(field: string, message: string): never {
  throw ChatpulseConfigError.of(field, message);
}

/** Parses one value or throws naming its field (the health configuration stops at the first bad value). */
function parsed<T>(field: string, v: unknown, parse: Parser<T>): T {
  return new SettingsReader('first').value(field, v, parse, undefined as T);
}

const duration = (field: string, v: unknown, min = 0): number => parsed(field, v, durationParser(min));
const integer = (field: string, v: unknown, min: number, max: number): number => parsed(field, v, int(min, max));
const num = (field: string, v: unknown): number => parsed(field, v, nonNegative);
const bool = (field: string, v: unknown): boolean => parsed(field, v, boolParser);
const url = (field: string, v: unknown, protocols: string[]): string => parsed(field, v, urlParser(protocols));

/**
 * CHATPULSE_HEALTH_CHECKS (relative to the working directory) or `healthChecks` (relative to the
 * config file that names it): where the app's own checks are. Only the path is checked here; the
 * module is loaded once when the service starts (checks/checks-module.ts).
 */
function checksModule(env: Env, c: HealthConfigInput, base: string): HealthConfig['healthChecks'] {
  const fromEnv = env.CHATPULSE_HEALTH_CHECKS?.trim();
  const field = fromEnv ? 'CHATPULSE_HEALTH_CHECKS' : 'healthChecks';
  const raw = fromEnv || c.healthChecks;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') fail(field, 'expected the path of a module exporting the checks array, such as ./health-checks.js');
  return Object.freeze({ file: path.resolve(fromEnv ? process.cwd() : base, raw.trim()), field });
}

/** The least alert evaluation interval, wherever it is set (env, file, createAlerting option). */
export const MIN_ALERT_INTERVAL_MS = 100;

/**
 * The health service's plain settings, each described once: environment variable, config-file
 * field, parser with its bounds, default. The environment wins over the file.
 */
export const HEALTH_SETTINGS = Object.freeze({
  host: setting({ key: 'host', env: 'CHATPULSE_HEALTH_HOST', file: 'host', parse: text, default: '0.0.0.0' }),
  windowMs: setting({ key: 'windowMs', env: 'CHATPULSE_HEALTH_WINDOW', file: 'window', parse: durationParser(1000), default: 300_000 }),
  evaluationIntervalMs: setting({ key: 'evaluationIntervalMs', env: 'CHATPULSE_HEALTH_EVAL_INTERVAL', file: 'evaluationInterval', parse: durationParser(50), default: 5_000 }),
  minSamples: setting({ key: 'minSamples', env: 'CHATPULSE_HEALTH_MIN_SAMPLES', file: 'minSamples', parse: int(1, 1_000_000), default: 20 }),
  hysteresis: setting({ key: 'hysteresis', env: 'CHATPULSE_HEALTH_HYSTERESIS', file: 'hysteresis', parse: int(1, 100), default: 2 }),
  token: setting<string | undefined>({ key: 'token', env: 'CHATPULSE_HEALTH_TOKEN', file: 'token', parse: text, default: undefined }),
  readiness: setting<ReadinessScope>({ key: 'readiness', env: 'CHATPULSE_READINESS', file: 'readiness', parse: readinessParser, default: INSTANCE_READINESS, defaultText: 'required,eventLoopDelay' }),
  trustProxy: setting<TrustProxy>({ key: 'trustProxy', env: 'CHATPULSE_HEALTH_TRUST_PROXY', file: 'trustProxy', parse: trustProxyParser, default: TRUST_NONE, defaultText: 'off' }),
  diskPath: setting({ key: 'diskPath', env: 'CHATPULSE_HEALTH_DISK_PATH', file: 'diskPath', parse: text, default: '' }),
  drainTimeoutMs: setting({ key: 'drainTimeoutMs', env: 'CHATPULSE_SHUTDOWN_DRAIN', file: 'drainTimeout', parse: durationParser(0), default: 10_000 }),
  alertIntervalMs: setting<number | undefined>({ key: 'alertIntervalMs', env: 'CHATPULSE_ALERT_INTERVAL', parse: durationParser(MIN_ALERT_INTERVAL_MS), default: undefined }),
  alertWebhookUrl: setting<string | undefined>({ key: 'alertWebhookUrl', env: 'CHATPULSE_ALERT_WEBHOOK_URL', parse: httpUrl, default: undefined }),
  alertApiTimeoutMs: setting<number | undefined>({ key: 'alertApiTimeoutMs', env: 'CHATPULSE_ALERT_API_TIMEOUT', parse: durationParser(10), default: undefined }),
  alertSpoolDir: setting<string | undefined>({ key: 'alertSpoolDir', env: 'CHATPULSE_ALERT_SPOOL_DIR', parse: text, default: undefined }),
});

const KPI_ENV = (k: KpiKey) => k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Reads a YAML or JSON file; errors name the file. */
export function readConfigFile(file: string): HealthConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail('CHATPULSE_HEALTH_CONFIG', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
    if (data === null || data === undefined) return {};
    if (typeof data !== 'object' || Array.isArray(data)) fail(file, 'expected a mapping at the top level');
    return data as HealthConfigInput;
  } catch (err) {
    if (err instanceof ChatpulseConfigError) throw err;
    fail(file, `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
}

const KNOWN_FIELDS = new Set([
  'port', 'host', 'window', 'evaluationInterval', 'minSamples', 'hysteresis', 'thresholds', 'disabledKpis', 'token',
  'rateLimits', 'trustProxy', 'readiness', 'database', 'redis', 'upstreams', 'diskPath', 'drainTimeout', 'debug', 'alerts',
  'healthChecks',
]);

/**
 * Resolves the health configuration: defaults (the KPI table), then the file named by
 * `CHATPULSE_HEALTH_CONFIG` or `input`, then environment variables. Throws ChatpulseConfigError
 * naming the field on the first invalid value. Run once at start, never per request.
 */
export function resolveHealthConfig(input: HealthConfigInput = {}, env: Env = process.env): HealthConfig {
  const fileName = env.CHATPULSE_HEALTH_CONFIG;
  const file: HealthConfigInput = fileName ? readConfigFile(path.resolve(fileName)) : {};
  const c: HealthConfigInput = { ...file, ...input };
  for (const k of Object.keys(c)) if (!KNOWN_FIELDS.has(k)) fail(k, `unknown field (known: ${[...KNOWN_FIELDS].join(', ')})`);

  const reader = new SettingsReader('first', env, c as Record<string, unknown>);
  const port = reader.read(setting<number | undefined>({ key: 'port', env: 'CHATPULSE_HEALTH_PORT', file: 'port', parse: int(0, 65535), default: undefined }));

  // Thresholds: defaults ← file ← env (CHATPULSE_KPI_TIME_TO_FIRST_TOKEN_WARN=1.5).
  if (c.thresholds !== undefined && (typeof c.thresholds !== 'object' || c.thresholds === null)) fail('thresholds', 'expected a mapping of KPI to {target, warn, fail}');
  for (const k of Object.keys(c.thresholds ?? {})) {
    if (!KPI_KEYS.includes(k as KpiKey)) fail(`thresholds.${k}`, `unknown KPI (known: ${KPI_KEYS.join(', ')})`);
  }
  const thresholds = {} as Record<KpiKey, KpiThresholds>;
  for (const def of KPIS) {
    const merged: Record<string, number> = { ...DEFAULT_THRESHOLDS[def.key] };
    const fromFile = (c.thresholds?.[def.key] ?? {}) as Record<string, unknown>;
    for (const [level, v] of Object.entries(fromFile)) {
      if (!['target', 'warn', 'fail'].includes(level)) fail(`thresholds.${def.key}.${level}`, 'unknown level (known: target, warn, fail)');
      merged[level] = num(`thresholds.${def.key}.${level}`, v);
    }
    for (const level of ['target', 'warn', 'fail'] as const) {
      const name = `CHATPULSE_KPI_${KPI_ENV(def.key)}_${level.toUpperCase()}`;
      const e = env[name];
      if (e !== undefined && e.trim() !== '') merged[level] = num(name, e.trim());
    }
    const t = { target: merged.target!, warn: merged.warn!, fail: merged.fail! };
    const ordered = def.direction === 'above' ? t.target <= t.warn && t.warn <= t.fail : t.target >= t.warn && t.warn >= t.fail;
    if (!ordered) {
      fail(
        `thresholds.${def.key}`,
        def.direction === 'above'
          ? `expected target ≤ warn ≤ fail (higher is worse), got ${JSON.stringify(t)}`
          : `expected target ≥ warn ≥ fail (lower is worse), got ${JSON.stringify(t)}`,
      );
    }
    thresholds[def.key] = Object.freeze(t);
  }

  const disabledKpis = new Set<KpiKey>();
  for (const k of c.disabledKpis ?? []) {
    if (!KPI_KEYS.includes(k)) fail('disabledKpis', `unknown KPI ${JSON.stringify(k)}`);
    disabledKpis.add(k);
  }

  const rateLimits: Record<string, RateLimit> = { ...DEFAULT_RATE_LIMITS };
  for (const [p, v] of Object.entries(c.rateLimits ?? {})) {
    if (v === false) delete rateLimits[p];
    else rateLimits[p] = { limit: integer(`rateLimits.${p}.limit`, v.limit, 1, 1_000_000), windowMs: duration(`rateLimits.${p}.window`, v.window, 1) };
  }
  const rlEnv = env.CHATPULSE_HEALTH_RATE_LIMITS?.trim();
  if (rlEnv === 'off') for (const k of Object.keys(rateLimits)) delete rateLimits[k];
  else if (rlEnv) {
    for (const part of rlEnv.split(',')) {
      const m = /^\s*(\/[^=\s]*)\s*=\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(part);
      if (m === null) fail('CHATPULSE_HEALTH_RATE_LIMITS', `"${part.trim()}" is not /path=requests/window (e.g. /api/v1/health=60/1m), or "off"`);
      rateLimits[m[1]!] = { limit: integer('CHATPULSE_HEALTH_RATE_LIMITS', m[2], 1, 1_000_000), windowMs: duration('CHATPULSE_HEALTH_RATE_LIMITS', m[3], 1) };
    }
  }

  // How a dependency is checked: whether it is required, how often, how long a check may take.
  const depSchedule = (name: 'database' | 'redis', requiredDefault: boolean) => {
    const fileDep = c[name] || undefined;
    const reqEnv = env[`CHATPULSE_${name.toUpperCase()}_REQUIRED`];
    return {
      required: reqEnv !== undefined && reqEnv.trim() !== '' ? bool(`CHATPULSE_${name.toUpperCase()}_REQUIRED`, reqEnv.trim()) : fileDep?.required === undefined ? requiredDefault : bool(`${name}.required`, fileDep.required),
      intervalMs: fileDep?.interval === undefined ? 10_000 : duration(`${name}.interval`, fileDep.interval, 100),
      timeoutMs: fileDep?.timeout === undefined ? 2_000 : duration(`${name}.timeout`, fileDep.timeout, 1),
    };
  };
  const dep = (
    name: 'database' | 'redis',
    envUrl: string,
    protocols: string[],
    requiredDefault: boolean,
  ): DependencyConfig | undefined => {
    const fileDep = c[name];
    if (fileDep === false) return undefined;
    const raw = env[envUrl]?.trim() || fileDep?.url;
    if (!raw) return undefined;
    return Object.freeze({
      url: url(env[envUrl]?.trim() ? envUrl : `${name}.url`, raw, protocols),
      ...depSchedule(name, requiredDefault),
    });
  };

  // A Redis Cluster is named by its seed nodes, REDIS_CLUSTER_NODES=redis://a:6379,redis://b:6379,
  // in place of REDIS_URL.
  const redisDep = (): DependencyConfig | undefined => {
    const fileDep = c.redis;
    const envNodes = env.REDIS_CLUSTER_NODES?.trim();
    const field = envNodes ? 'REDIS_CLUSTER_NODES' : 'redis.clusterNodes';
    const raw = envNodes ? envNodes.split(',').map((s) => s.trim()).filter((s) => s !== '') : fileDep ? fileDep.clusterNodes : undefined;
    if (raw === undefined || fileDep === false) return dep('redis', 'REDIS_URL', ['redis:', 'rediss:'], false);
    if (!Array.isArray(raw) || raw.length === 0) fail(field, 'expected one or more redis:// URLs of cluster nodes');
    if (env.REDIS_URL?.trim() || (fileDep && fileDep.url !== undefined)) {
      fail(field, `a Redis Cluster is named by its nodes alone; unset ${env.REDIS_URL?.trim() ? 'REDIS_URL' : 'redis.url'}`);
    }
    const nodes = raw.map((u, i) => url(envNodes ? field : `${field}[${i}]`, u, ['redis:', 'rediss:']));
    return Object.freeze({ url: nodes[0]!, clusterNodes: Object.freeze(nodes), ...depSchedule('redis', false) });
  };

  const upstreams: UpstreamConfig[] = [];
  for (const [i, u] of (c.upstreams ?? []).entries()) {
    if (typeof u?.name !== 'string' || u.name === '') fail(`upstreams[${i}].name`, 'expected a name such as llm or tts');
    upstreams.push(
      Object.freeze({
        name: u.name,
        url: url(`upstreams[${i}].url`, u.url, ['http:', 'https:']),
        expectedStatus: u.expectedStatus === undefined ? undefined : integer(`upstreams[${i}].expectedStatus`, u.expectedStatus, 100, 599),
        timeoutMs: u.timeout === undefined ? 3_000 : duration(`upstreams[${i}].timeout`, u.timeout, 1),
        intervalMs: u.interval === undefined ? 30_000 : duration(`upstreams[${i}].interval`, u.interval, 100),
        required: u.required === undefined ? false : bool(`upstreams[${i}].required`, u.required),
      }),
    );
  }
  // CHATPULSE_UPSTREAMS=llm=https://llm.internal/health,tts=https://tts.internal/health
  for (const part of (env.CHATPULSE_UPSTREAMS ?? '').split(',').filter((s) => s.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail('CHATPULSE_UPSTREAMS', `"${part.trim().slice(0, 40)}" is not name=url`);
    upstreams.push(
      Object.freeze({
        name: part.slice(0, eq).trim(),
        url: url('CHATPULSE_UPSTREAMS', part.slice(eq + 1).trim(), ['http:', 'https:']),
        timeoutMs: 3_000,
        intervalMs: 30_000,
        required: false,
      }),
    );
  }

  const plain = reader.readAll(HEALTH_SETTINGS);
  const config: HealthConfig = {
    port,
    host: plain.host,
    windowMs: plain.windowMs,
    evaluationIntervalMs: plain.evaluationIntervalMs,
    minSamples: plain.minSamples,
    hysteresis: plain.hysteresis,
    thresholds: Object.freeze(thresholds),
    disabledKpis,
    token: plain.token,
    rateLimits: Object.freeze(rateLimits),
    trustProxy: plain.trustProxy,
    readiness: plain.readiness,
    database: dep('database', 'DATABASE_URL', ['postgres:', 'postgresql:'], true),
    redis: redisDep(),
    discovered: Object.freeze({
      database: c.database === false ? undefined : Object.freeze(depSchedule('database', true)),
      redis: c.redis === false ? undefined : Object.freeze(depSchedule('redis', false)),
    }),
    upstreams: Object.freeze(upstreams),
    // The working directory at start, not at each check.
    diskPath: plain.diskPath === '' ? process.cwd() : plain.diskPath,
    drainTimeoutMs: plain.drainTimeoutMs,
    debug: env.DEBUG_MONITORING === 'true' || (c.debug === undefined ? false : bool('debug', c.debug)),
    alertsInput: c.alerts,
    alertIntervalMs: plain.alertIntervalMs,
    alertWebhookUrl: plain.alertWebhookUrl,
    alertApiTimeoutMs: plain.alertApiTimeoutMs,
    alertSpoolDir: plain.alertSpoolDir,
    file: fileName ? path.resolve(fileName) : undefined,
    healthChecks: checksModule(env, c, fileName && file.healthChecks !== undefined && input.healthChecks === undefined ? path.dirname(path.resolve(fileName)) : process.cwd()),
  };
  return Object.freeze(config);
}
