import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino, { type Logger } from 'pino';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import type { ProcessSampler } from '../../../instrumentation/metrics/process-metrics';
import { createAlerting, type Alerting, type AlertingOptions } from '../../../src/alerts';
import { resolveHealthConfig, type HealthConfig, type HealthConfigInput } from '../../../src/config/health-config';
import { createHealthRouter } from '../../../src/http/router';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { HealthService, type DependencyResult, type DependencySource } from '../../../src/service/health-service';
import { UpstreamWindow } from '../../../src/signals/upstream-window';
import { SlidingWindow } from '../../../src/signals/window';

/** Real Postgres (CI starts it): trust auth on 127.0.0.1:5432. */
export const PG_URL = process.env.CHATPULSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TOKEN = 'alerts-test-token';

/** A schema of its own for one test file, so runs never see each other's rows. */
export async function createSchema(prefix: string): Promise<{ schema: string; drop: () => Promise<void>; query: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]> }> {
  const schema = `cp_${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: PG_URL, options: `-c search_path=${schema}`, statement_timeout: 10_000 });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    query: async (sql, params = []) => (await client.query(sql, params)).rows,
    drop: async () => {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A dependency source whose results the test sets. */
export class StaticDependencies implements DependencySource {
  list: DependencyResult[] = [];
  results() {
    return this.list;
  }
  start() {}
  async stop() {}
}

export function dep(name: string, component: string, status: 'pass' | 'warn' | 'fail', required: boolean, message?: string): DependencyResult {
  return { name, component, measurement: 'responseTime', status, required, time: new Date().toISOString(), ...(message !== undefined ? { message } : status === 'fail' ? { message: 'connection refused' } : {}) };
}

/** A test clock: rules, the error log and the health window all read it. */
export class Clock {
  t = Date.UTC(2025, 0, 23, 10, 0, 0);
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Process gauges the test sets (memory, CPU, event-loop delay KPIs). */
export class FakeSampler {
  memory = 0.1;
  cpu = 0.1;
  eventLoopDelay = 0.001;
  read() {
    return {
      rssBytes: 1,
      memoryLimitBytes: 1,
      memoryUtilization: this.memory,
      heapUsedBytes: 1,
      heapLimitBytes: 1,
      cpuUserSeconds: 0,
      cpuSystemSeconds: 0,
      cpuUtilization: this.cpu,
      eventLoopDelay: { p50: this.eventLoopDelay, p90: this.eventLoopDelay, p99: this.eventLoopDelay, max: this.eventLoopDelay, mean: this.eventLoopDelay },
    };
  }
}

/** Log lines captured from a real pino logger. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

export interface Harness {
  readonly recorder: Recorder;
  readonly service: HealthService;
  readonly deps: StaticDependencies;
  readonly sampler: FakeSampler;
  readonly alerting: Alerting;
  readonly server: HealthServer;
  readonly base: string;
  readonly config: HealthConfig;
  readonly lines: Record<string, unknown>[];
  /** Grades the KPIs then evaluates the rules. */
  evaluate(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly clock: Clock;
  readonly schema?: string;
  /** false: no database (memory store). */
  readonly databaseUrl?: string | false;
  readonly config?: HealthConfigInput;
  readonly env?: Record<string, string>;
  readonly alerting?: Partial<AlertingOptions>;
  /** Start the alerting (migrations, timers). Default true. */
  readonly start?: boolean;
  /** Share a recorder/service between two replicas? No: each replica has its own, as in production. */
  readonly windowMs?: number;
}

/** A health service on a test clock, the alerting on the same clock, and the router on a real port. */
export async function harness(o: HarnessOptions): Promise<Harness> {
  const recorder = new Recorder();
  const config = resolveHealthConfig({ minSamples: 5, hysteresis: 1, window: o.windowMs ?? 60_000, rateLimits: { '/api/v1/health/alerts': false, '/api/v1/health/dashboard': false }, ...o.config }, { CHATPULSE_HEALTH_TOKEN: TOKEN, ...o.env });
  const deps = new StaticDependencies();
  const sampler = new FakeSampler();
  const window = new SlidingWindow(recorder, config.windowMs, sampler as unknown as ProcessSampler, o.clock.now).attach();
  // The model calls too (the upstream KPIs), on the same test clock.
  const upstreams = new UpstreamWindow(recorder, config.windowMs, o.clock.now).attach();
  const signals = {
    snapshot: () => ({ ...window.snapshot(), upstreams: upstreams.stats() }),
    close: () => {
      window.close();
      upstreams.close();
    },
  };
  const service = new HealthService({ config, signals, dependencies: deps, autoEvaluate: false });
  await service.evaluate();
  const { logger, lines } = captureLogger();
  const alerting = await createAlerting({
    config,
    service,
    recorder,
    logger,
    now: o.clock.now,
    evaluationIntervalMs: 3_600_000,
    ...(o.databaseUrl === false ? {} : { databaseUrl: o.databaseUrl ?? PG_URL }),
    ...(o.schema !== undefined ? { schema: o.schema } : {}),
    ...o.alerting,
  });
  const router = createHealthRouter({ service, logger, serviceName: 'alerts-test', version: '0.1.0', extend: alerting.extendRouter, activeAlerts: () => alerting.activeAlerts() });
  const server = await listenHealthServer(router, 0, '127.0.0.1');
  if (o.start !== false) await alerting.start();
  return {
    recorder,
    service,
    deps,
    sampler,
    alerting,
    server,
    config,
    lines,
    base: `http://127.0.0.1:${server.address.port}`,
    evaluate: async () => {
      await service.evaluate();
      await alerting.evaluateNow();
    },
    close: async () => {
      await server.close();
      await alerting.stop();
      await service.close();
    },
  };
}

export interface ApiResponse {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: Record<string, any> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Every alert (any status) of a rule, newest first. */
export async function alertsOf(base: string, ruleId: string): Promise<Record<string, any>[]> {
  const r = await api(base, 'GET', '/api/v1/health/alerts?status=all&limit=500');
  if (r.status !== 200) throw new Error(`GET alerts: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body.alerts as Record<string, any>[]).filter((a) => a.ruleId === ruleId);
}

/** A webhook receiver the test controls: answer codes, delays, and what it received. */
export class Receiver {
  readonly received: { id: string; event: string; body: Record<string, any>; at: number }[] = [];
  /** Answer with this status (200 by default). */
  status = 200;
  /** Delay before answering, ms. */
  delayMs = 0;
  private server: http.Server | undefined;
  port = 0;

  async listen(port = 0): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = () => {
          if (res.destroyed) return;
          if (this.status >= 200 && this.status < 300) {
            this.received.push({ id: String(req.headers['x-chatpulse-notification-id']), event: String(req.headers['x-chatpulse-event']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')), at: performance.now() });
          }
          res.writeHead(this.status, { 'content-type': 'text/plain' }).end('ok');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs).unref();
        else answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/slack`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A port that nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A store method whose `nth` call (0-based) answers only after `release()`: its answer is the one read before. */
export interface HeldCall {
  calls(): number;
  release(): void;
  /** Puts the real method back (and releases). */
  restore(): void;
}

/** Replaces `proto[method]` (an async method) so that its `nth` call is held, to force an interleaving. */
export function holdCall<P extends object>(proto: P, method: keyof P & string, nth: number): HeldCall {
  const target = proto as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target[method]!;
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  target[method] = async function (this: unknown, ...args: unknown[]) {
    const out = await original.apply(this, args);
    if (calls++ === nth) await gate;
    return out;
  };
  return {
    calls: () => calls,
    release: () => release(),
    restore: () => {
      target[method] = original;
      release();
    },
  };
}
