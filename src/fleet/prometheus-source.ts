import * as http from 'node:http';
import * as https from 'node:https';
import type { SignalSource } from '../service/health-service';
import type { SignalSnapshot } from '../signals/snapshot';
import type { StreamEvent } from '../signals/stream-events';
import { InstanceTable, roundCount, type FleetQuantiles, type Sample } from './instance-table';
import { RequestGroup } from './request-group';
import { fleetUpstreams } from './upstreams';

export { roundCount } from './instance-table';

export interface PrometheusSourceOptions {
  /** Prometheus base URL, e.g. `http://prometheus:9090` (a path prefix such as `/prometheus` is kept). */
  readonly url: string;
  /** `service_name` label of the fleet; undefined = every service Prometheus scrapes. */
  readonly service?: string;
  /** The sliding window every rate, increase and quantile covers. */
  readonly windowMs: number;
  /** Bound on one snapshot: all its queries, which run in parallel. */
  readonly timeoutMs: number;
  /** Extra request headers (e.g. `Authorization` for a Prometheus behind a proxy). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A failed snapshot: Prometheus unreachable, too slow, or answering something else than its API. */
export class PrometheusQueryError extends Error {
  readonly code = 'CHATPULSE_ERR_PROMETHEUS';
  constructor(
    /** The Prometheus base URL, without credentials. */
    readonly url: string,
    message: string,
    /** The PromQL that failed, when one did. */
    readonly query?: string,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

const MAX_BODY = 8 << 20;

const QUANTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

/** A PromQL string literal (Go escaping accepts what JSON produces). */
function literal(v: string): string {
  return JSON.stringify(v);
}

/** What names an instance: Prometheus' target labels. */
const BY_INSTANCE = 'job, instance';
/** The model calls' grouping: provider and request model. */
const BY_MODEL = 'gen_ai_provider_name, gen_ai_request_model';

/**
 * The PromQL behind every snapshot field. The KPI ratios are taken from these numbers the way the
 * recording rules in `alerts/` define them: stream success = completed / (completed + failed),
 * error rate = 5xx / all requests, hit rate = hits / lookups per `chatbot_cache_name`.
 *
 * Every query the KPIs read is grouped by (job, instance): one query gives every instance's
 * number, and the fleet's is their sum (or worst). Only the fleet's percentiles need queries of
 * their own, since percentiles do not add up: histograms are merged bucket by bucket first. The
 * number of queries (FLEET_QUERY_COUNT) does not depend on the number of instances.
 */
export function fleetQueries(service: string | undefined, windowSeconds: number) {
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  const sel = (...extra: string[]) => {
    const m = [...(service === undefined ? [] : [`service_name=${literal(service)}`]), ...extra];
    return m.length === 0 ? '' : `{${m.join(', ')}}`;
  };
  const latency = (base: string, ...extra: string[]) => ({
    count: `sum by (${BY_INSTANCE}) (increase(${base}_count${sel(...extra)}${w}))`,
    ...(Object.fromEntries(
      Object.entries(QUANTILES).map(([k, q]) => [k, `histogram_quantile(${q}, sum by (le) (rate(${base}_bucket${sel(...extra)}${w})))`]),
    ) as Record<keyof typeof QUANTILES, string>),
    p95ByInstance: `histogram_quantile(0.95, sum by (${BY_INSTANCE}, le) (rate(${base}_bucket${sel(...extra)}${w})))`,
  });
  return {
    timeToFirstToken: latency('chatbot_stream_time_to_first_token'),
    timeToFirstAudio: latency('chatbot_stream_time_to_first_audio'),
    // Complete response latency: streams that completed, as in-process and in the recording rules.
    completeResponse: latency('chatbot_stream_duration', 'chatbot_stream_outcome="completed"'),
    streams: `sum by (${BY_INSTANCE}, chatbot_stream_outcome) (increase(chatbot_streams_total${sel()}${w}))`,
    requestsTotal: `sum by (${BY_INSTANCE}) (increase(http_server_request_duration_count${sel()}${w}))`,
    requestsServerErrors: `sum by (${BY_INSTANCE}) (increase(http_server_request_duration_count${sel('http_response_status_code=~"5.."')}${w}))`,
    caches: `sum by (${BY_INSTANCE}, chatbot_cache_name, chatbot_cache_result) (increase(chatbot_cache_lookups_total${sel()}${w}))`,
    // Not graded: the fleet's error classes only.
    errors: `sum by (error_type) (increase(chatbot_errors_total${sel()}${w}))`,
    // Per instance, routes summed: the fleet reports the total and grades the busiest instance.
    activeStreams: `sum by (${BY_INSTANCE}) (chatbot_streams_active${sel()})`,
    // Process gauges now. Every Chatpulse process exports process_memory_utilization (`up` has no
    // service_name): an instance with a current sample is reporting.
    memoryUtilization: `max by (${BY_INSTANCE}) (process_memory_utilization${sel()})`,
    cpuUtilization: `max by (${BY_INSTANCE}) (process_cpu_utilization${sel()})`,
    eventLoopDelayP99: `max by (${BY_INSTANCE}) (nodejs_eventloop_delay${sel('nodejs_eventloop_delay_percentile="p99"')})`,
    // Instances that reported within the window: those without a current sample are missing.
    seen: `group by (${BY_INSTANCE}) (last_over_time(process_memory_utilization${sel()}${w}))`,
    // The model calls, the fleet's only (every instance together), by provider and request model:
    // the upstream KPIs. The app's own cancels are left out, as in the recording rules.
    upstreams: {
      calls: `sum by (${BY_MODEL}) (increase(gen_ai_client_operation_duration_count${sel('error_type!="cancelled"')}${w}))`,
      errors: `sum by (${BY_MODEL}) (increase(gen_ai_client_operation_duration_count${sel('error_type!=""', 'error_type!="cancelled"')}${w}))`,
      firstChunks: `sum by (${BY_MODEL}) (increase(gen_ai_client_operation_time_to_first_chunk_count${sel()}${w}))`,
      firstChunkP95: `histogram_quantile(0.95, sum by (${BY_MODEL}, le) (rate(gen_ai_client_operation_time_to_first_chunk_bucket${sel()}${w})))`,
      firstChunkP50: `histogram_quantile(0.5, sum by (${BY_MODEL}, le) (rate(gen_ai_client_operation_time_to_first_chunk_bucket${sel()}${w})))`,
    },
  };
}

export type FleetQueries = ReturnType<typeof fleetQueries>;

/** Queries per snapshot, whatever the number of instances: 5 per latency KPI, 10 others, 5 for the model calls. */
export const FLEET_QUERY_COUNT = (() => {
  let n = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') n++;
    else for (const x of Object.values(v as object)) walk(x);
  };
  walk(fleetQueries(undefined, 60));
  return n;
})();

/** Prometheus renders special floats as `NaN`, `+Inf`, `-Inf`. */
function parseValue(v: unknown): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return typeof v === 'string' ? Number(v) : NaN;
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

const first = (samples: readonly Sample[]) => samples[0]?.value;

/** The base URL without credentials, query or trailing slash, for requests, messages and logs. */
function redact(u: URL): string {
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  c.search = '';
  c.hash = '';
  return c.href.replace(/\/$/, '');
}

/**
 * Fleet mode: the signals of every instance of a service, read from Prometheus with instant
 * queries over the window. Counters are summed over instances, histograms are merged bucket by
 * bucket before the quantile is taken, and process gauges report the worst instance.
 */
export class PrometheusSignalSource implements SignalSource {
  /** The base URL without credentials (for messages and logs). */
  readonly url: string;
  readonly service: string | undefined;
  readonly windowMs: number;
  readonly timeoutMs: number;
  readonly queries: FleetQueries;
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;
  private readonly inFlight = new Set<RequestGroup>();
  // FLEET_QUERY_COUNT (25) queries per snapshot, every evaluation: reuse connections.
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(options: PrometheusSourceOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new TypeError(`Prometheus URL is not a valid URL: ${JSON.stringify(options.url)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`Prometheus URL must be http or https, got ${base.protocol}`);
    }
    if (!Number.isFinite(options.windowMs) || options.windowMs < 1000) throw new RangeError(`windowMs must be at least 1000, got ${options.windowMs}`);
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    if (options.service !== undefined && options.service === '') throw new TypeError('service must not be empty (omit it for every service)');
    this.headers = { accept: 'application/json', ...(options.headers ?? {}) };
    // Credentials in the URL become Basic auth (and never appear in messages).
    if (base.username !== '' || base.password !== '') {
      const hasAuth = Object.keys(this.headers).some((h) => h.toLowerCase() === 'authorization');
      if (!hasAuth) {
        const user = decodeURIComponent(base.username);
        const pass = decodeURIComponent(base.password);
        this.headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      }
    }
    this.url = redact(base);
    const clean = new URL(this.url + '/');
    this.endpoint = new URL('api/v1/query', clean);
    this.service = options.service;
    this.windowMs = options.windowMs;
    this.timeoutMs = options.timeoutMs;
    this.queries = fleetQueries(options.service, options.windowMs / 1000);
  }

  /** Runs every query in parallel; rejects with a PrometheusQueryError naming the URL on the first failure. */
  async snapshot(): Promise<SignalSnapshot> {
    const group = new RequestGroup();
    this.inFlight.add(group);
    const timer = setTimeout(() => group.abort(new PrometheusQueryError(this.url, `Prometheus at ${this.url} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    const q = this.queries;
    const run = (query: string) =>
      this.query(query, group).catch((err: unknown) => {
        // One failure is the snapshot's failure: stop the other queries.
        group.abort(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
    const table = new InstanceTable();
    const latency = async (key: 'timeToFirstToken' | 'timeToFirstAudio' | 'completeResponse'): Promise<FleetQuantiles[typeof key]> => {
      const l = q[key];
      const [count, p50, p95, p99, p95ByInstance] = await Promise.all([run(l.count), run(l.p50), run(l.p95), run(l.p99), run(l.p95ByInstance)]);
      table.latencyCounts(key, count);
      table.latencyP95(key, p95ByInstance);
      const out: { p50?: number; p95?: number; p99?: number } = {};
      for (const [k, v] of [['p50', p50], ['p95', p95], ['p99', p99]] as const) {
        const x = finite(first(v));
        if (x !== undefined) out[k] = x;
      }
      return out;
    };
    try {
      const u = q.upstreams;
      const upstreams = Promise.all([run(u.calls), run(u.errors), run(u.firstChunks), run(u.firstChunkP95), run(u.firstChunkP50)]).then(
        ([calls, errors, firstChunks, firstChunkP95, firstChunkP50]) => fleetUpstreams({ calls, errors, firstChunks, firstChunkP95, firstChunkP50 }),
      );
      const [ttft, ttfa, complete, streams, total, serverErrors, caches, errors, active, mem, cpu, loop, seen, models] = await Promise.all([
        latency('timeToFirstToken'),
        latency('timeToFirstAudio'),
        latency('completeResponse'),
        run(q.streams),
        run(q.requestsTotal),
        run(q.requestsServerErrors),
        run(q.caches),
        run(q.errors),
        run(q.activeStreams),
        run(q.memoryUtilization),
        run(q.cpuUtilization),
        run(q.eventLoopDelayP99),
        run(q.seen),
        upstreams,
      ]);
      table.streams(streams);
      table.requests(total, serverErrors);
      table.caches(caches);
      table.activeStreams(active);
      table.memory(mem);
      table.cpu(cpu);
      table.eventLoopDelayP99(loop);
      table.seen(seen);
      const errorMap: Record<string, number> = {};
      for (const s of errors) {
        const n = roundCount(s.value);
        const type = s.labels.error_type;
        if (type !== undefined && n > 0) errorMap[type] = (errorMap[type] ?? 0) + n;
      }
      const snapshot = table.snapshot(this.windowMs / 1000, { timeToFirstToken: ttft, timeToFirstAudio: ttfa, completeResponse: complete }, errorMap);
      return models.length === 0 ? snapshot : { ...snapshot, upstreams: models };
    } catch (err) {
      // An abort carries its reason: the timeout, the first failure, or close().
      const reason = group.reason ?? err;
      if (reason instanceof PrometheusQueryError) throw reason;
      throw new PrometheusQueryError(this.url, `Prometheus at ${this.url}: ${(reason as Error)?.message ?? String(reason)}`);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(group);
    }
  }

  /** No per-stream events in fleet mode. */
  events(_limit?: number): StreamEvent[] {
    return [];
  }

  /** Aborts snapshots in flight and closes pooled connections. */
  close(): void {
    for (const g of this.inFlight) g.abort(new PrometheusQueryError(this.url, `Prometheus at ${this.url}: source closed`));
    this.inFlight.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** One instant query; the vector's samples. */
  private async query(query: string, group: RequestGroup): Promise<Sample[]> {
    const u = new URL(this.endpoint);
    u.searchParams.set('query', query);
    const res = await this.get(u, group, query);
    let body: { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      throw new PrometheusQueryError(
        this.url,
        `Prometheus at ${this.url} answered HTTP ${res.status} with a non-JSON body (${res.type}): is this the Prometheus base URL?`,
        query,
      );
    }
    if (body === null || typeof body !== 'object' || body.status !== 'success') {
      const detail = body !== null && typeof body === 'object' && typeof body.error === 'string' ? `: ${String(body.errorType ?? 'error')}: ${body.error}` : '';
      throw new PrometheusQueryError(this.url, `Prometheus at ${this.url} answered HTTP ${res.status}${detail} (query: ${query})`, query);
    }
    const data = body.data;
    if (data?.resultType === 'scalar' && Array.isArray(data.result)) return [{ labels: {}, value: parseValue(data.result[1]) }];
    if (data?.resultType !== 'vector' || !Array.isArray(data.result)) {
      throw new PrometheusQueryError(this.url, `Prometheus at ${this.url} returned ${String(data?.resultType ?? 'no data')} where a vector was expected (query: ${query})`, query);
    }
    return (data.result as { metric?: Record<string, string>; value?: unknown[] }[]).map((r) => ({
      labels: r.metric ?? {},
      value: parseValue(r.value?.[1]),
    }));
  }

  /** A GET with node:http (no fetch: it refuses some ports and URLs with credentials). */
  private get(u: URL, group: RequestGroup, query: string): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      if (group.reason !== undefined) return reject(group.reason);
      let settled = false;
      const done = (f: () => void) => {
        if (settled) return;
        settled = true;
        f();
      };
      const fail = (err: unknown, what: string) =>
        done(() => {
          // Destroyed by the group: its reason (timeout, the first failure, close) is the error.
          if (group.reason !== undefined) return reject(group.reason);
          if (err instanceof PrometheusQueryError) return reject(err);
          const e = err as NodeJS.ErrnoException;
          reject(new PrometheusQueryError(this.url, `Prometheus at ${this.url} ${what}: ${e.code ?? e.message}`, query));
        });
      const client = u.protocol === 'https:' ? https : http;
      const agent = u.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
      let response: http.IncomingMessage | undefined;
      // No `signal`: see RequestGroup.
      const req = client.get(u, { headers: this.headers, agent }, (res) => {
        response = res;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size <= MAX_BODY) chunks.push(d);
          else req.destroy(new PrometheusQueryError(this.url, `Prometheus at ${this.url}: response larger than ${MAX_BODY >> 20} MiB (query: ${query})`, query));
        });
        res.on('end', () =>
          done(() => resolve({ status: res.statusCode ?? 0, type: (res.headers['content-type'] ?? 'no content type').split(';')[0]!, text: Buffer.concat(chunks).toString('utf8') })),
        );
        res.on('error', (err) => fail(err, 'response cut off'));
      });
      req.on('error', (err) => fail(err, 'is unreachable'));
      // A request destroyed mid-response may close without an error on the response: settle anyway
      // (a complete response settles on its 'end', which can come after the request's 'close').
      req.on('close', () => {
        if (response === undefined || !response.complete) fail(new Error('connection closed'), 'response cut off');
      });
      group.add(req);
    });
  }
}
