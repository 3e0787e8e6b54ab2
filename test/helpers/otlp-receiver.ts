/**
 * A real OTLP/HTTP metrics receiver for tests: node:http on 127.0.0.1:0, decoding
 * `application/x-protobuf` (protobufjs, from the inline .proto subset below) and `application/json`
 * (OTLP JSON), gunzipping `Content-Encoding: gzip`, and normalising both into one shape.
 *
 * Field numbers follow open-telemetry/opentelemetry-proto (metrics/v1/metrics.proto,
 * common/v1/common.proto, resource/v1/resource.proto, collector/metrics/v1/metrics_service.proto).
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const OTLP_METRICS_PROTO = `
syntax = "proto3";
package otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }

message ResourceMetrics {
  Resource resource = 1;
  repeated ScopeMetrics scope_metrics = 2;
  string schema_url = 3;
}
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message ScopeMetrics {
  InstrumentationScope scope = 1;
  repeated Metric metrics = 2;
  string schema_url = 3;
}
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
  }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum {
  repeated NumberDataPoint data_points = 1;
  int32 aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated HistogramDataPoint data_points = 1;
  int32 aggregation_temporality = 2;
}
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
  }
}
`;

const root = protobuf.parse(OTLP_METRICS_PROTO).root;
const ExportRequest = root.lookupType('otlp.ExportMetricsServiceRequest');

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

export interface ReceivedPoint {
  attributes: Attributes;
  startTimeUnixNano: number;
  timeUnixNano: number;
  /** Sum and gauge points. */
  value?: number;
  /** Histogram points. */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  bounds?: number[];
  min?: number;
  max?: number;
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram';
  temporality: 'delta' | 'cumulative' | undefined;
  isMonotonic: boolean;
  points: ReceivedPoint[];
}

export interface ReceivedExport {
  /** Request path, e.g. `/v1/metrics`. */
  path: string;
  /** Media type without parameters. */
  contentType: string;
  headers: http.IncomingHttpHeaders;
  /** `Date.now()` when the body was complete. */
  receivedAt: number;
  /** Body size on the wire (before gunzip). */
  wireBytes: number;
  resourceAttributes: Attributes;
  metrics: ReceivedMetric[];
}

/** ok: 200 with an empty response; refuse: destroy the socket; unavailable: 503; hang: never answer. */
export type ReceiverMode = 'ok' | 'refuse' | 'unavailable' | 'hang';

export interface ReceiverOptions {
  mode?: ReceiverMode;
  /** Paths that are answered; others get 404 and are recorded in `rejected`. Default `/v1/metrics`. */
  paths?: readonly string[];
}

export interface OtlpReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` (no path). */
  readonly baseUrl: string;
  /** Successfully decoded exports, in arrival order. */
  readonly exports: ReceivedExport[];
  /** Requests that could not be decoded or went to another path: `{ path, reason }`. */
  readonly rejected: { path: string; reason: string; receivedAt: number }[];
  /** Every request seen, whatever the mode (hung ones included), with its arrival time. */
  readonly arrivals: { path: string; receivedAt: number }[];
  setMode(mode: ReceiverMode): void;
  /** All points of one metric across every export, in order. */
  metric(name: string): ReceivedMetric[];
  /** Resolves once `predicate` holds for the exports received; rejects after `timeoutMs`. */
  waitFor(predicate: (exports: ReceivedExport[]) => boolean, timeoutMs: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

type Obj = Record<string, unknown>;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return l.high * 2 ** 32 + (l.low >>> 0);
  }
  return NaN;
}

function anyValue(v: unknown): AttributeValue {
  const o = (v ?? {}) as Obj;
  if (o.stringValue !== undefined) return String(o.stringValue);
  if (o.boolValue !== undefined) return Boolean(o.boolValue);
  if (o.intValue !== undefined) return num(o.intValue);
  if (o.doubleValue !== undefined) return num(o.doubleValue);
  return '';
}

function attributes(list: unknown): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Obj[]) out[String(kv.key)] = anyValue(kv.value);
  return out;
}

function temporality(v: unknown): 'delta' | 'cumulative' | undefined {
  if (v === 1 || v === 'AGGREGATION_TEMPORALITY_DELTA') return 'delta';
  if (v === 2 || v === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return 'cumulative';
  return undefined;
}

function numberPoint(p: Obj): ReceivedPoint {
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: num(p.startTimeUnixNano),
    timeUnixNano: num(p.timeUnixNano),
    // proto3 leaves a zero value out of the wire format.
    value: p.asDouble !== undefined ? num(p.asDouble) : p.asInt !== undefined ? num(p.asInt) : 0,
  };
}

function histogramPoint(p: Obj): ReceivedPoint {
  const out: ReceivedPoint = {
    attributes: attributes(p.attributes),
    startTimeUnixNano: num(p.startTimeUnixNano),
    timeUnixNano: num(p.timeUnixNano),
    count: num(p.count ?? 0),
    sum: num(p.sum ?? 0),
    bucketCounts: ((p.bucketCounts as unknown[]) ?? []).map(num),
    bounds: ((p.explicitBounds as unknown[]) ?? []).map(num),
  };
  if (p.min !== undefined) out.min = num(p.min);
  if (p.max !== undefined) out.max = num(p.max);
  return out;
}

function metric(m: Obj): ReceivedMetric {
  const base = { name: String(m.name), unit: String(m.unit ?? ''), description: String(m.description ?? '') };
  if (m.histogram !== undefined) {
    const h = m.histogram as Obj;
    return {
      ...base,
      kind: 'histogram',
      temporality: temporality(h.aggregationTemporality),
      isMonotonic: false,
      points: ((h.dataPoints as Obj[]) ?? []).map(histogramPoint),
    };
  }
  if (m.sum !== undefined) {
    const s = m.sum as Obj;
    return {
      ...base,
      kind: 'sum',
      temporality: temporality(s.aggregationTemporality),
      isMonotonic: s.isMonotonic === true,
      points: ((s.dataPoints as Obj[]) ?? []).map(numberPoint),
    };
  }
  if (m.gauge !== undefined) {
    const g = m.gauge as Obj;
    return { ...base, kind: 'gauge', temporality: undefined, isMonotonic: false, points: ((g.dataPoints as Obj[]) ?? []).map(numberPoint) };
  }
  throw new Error(`metric ${base.name} has no gauge, sum or histogram`);
}

/**
 * Normalises a decoded request (protobufjs object with camelCase names, or OTLP JSON, which uses
 * the same lowerCamelCase names) into the receiver's shape.
 */
export function normaliseRequest(body: Obj): { resourceAttributes: Attributes; metrics: ReceivedMetric[] } {
  const resourceAttributes: Attributes = {};
  const metrics: ReceivedMetric[] = [];
  for (const rm of (body.resourceMetrics as Obj[]) ?? []) {
    Object.assign(resourceAttributes, attributes((rm.resource as Obj | undefined)?.attributes));
    for (const sm of (rm.scopeMetrics as Obj[]) ?? []) {
      for (const m of (sm.metrics as Obj[]) ?? []) metrics.push(metric(m));
    }
  }
  return { resourceAttributes, metrics };
}

/** Decodes an OTLP protobuf ExportMetricsServiceRequest. */
export function decodeProtobuf(bytes: Uint8Array): Obj {
  const msg = ExportRequest.decode(bytes);
  return ExportRequest.toObject(msg, { longs: Number, enums: Number, defaults: false, arrays: true, oneofs: false }) as Obj;
}

export async function startOtlpReceiver(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
  let mode: ReceiverMode = options.mode ?? 'ok';
  const paths = new Set(options.paths ?? ['/v1/metrics']);
  const exports: ReceivedExport[] = [];
  const rejected: { path: string; reason: string; receivedAt: number }[] = [];
  const arrivals: { path: string; receivedAt: number }[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    arrivals.push({ path, receivedAt: Date.now() });
    if (mode === 'refuse') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const receivedAt = Date.now();
      if (mode === 'hang') return; // never answer; the socket is destroyed on close()
      if (mode === 'unavailable') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      const reject = (status: number, reason: string) => {
        rejected.push({ path, reason, receivedAt });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
      };
      if (req.method !== 'POST') return reject(405, `method ${req.method}`);
      if (!paths.has(path)) return reject(404, `no receiver at ${path}`);
      const raw = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      let decoded: Obj;
      try {
        const enc = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
        const body = enc === 'gzip' ? gunzipSync(raw) : enc === 'identity' ? raw : undefined;
        if (body === undefined) return reject(415, `content-encoding ${enc}`);
        if (contentType === 'application/x-protobuf') decoded = decodeProtobuf(body);
        else if (contentType === 'application/json') decoded = JSON.parse(body.toString('utf8')) as Obj;
        else return reject(415, `content-type ${contentType}`);
        exports.push({ path, contentType, headers: { ...req.headers }, receivedAt, wireBytes: raw.length, ...normaliseRequest(decoded) });
      } catch (err) {
        return reject(400, `undecodable: ${(err as Error).message}`);
      }
      if (contentType === 'application/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    exports,
    rejected,
    arrivals,
    setMode(m) {
      mode = m;
    },
    metric(name) {
      return exports.flatMap((e) => e.metrics.filter((m) => m.name === name));
    },
    async waitFor(predicate, timeoutMs, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(exports)) {
        if (Date.now() > deadline) {
          throw new Error(
            `OTLP receiver: timed out after ${timeoutMs} ms waiting for ${what}; ${exports.length} exports, ` +
              `${rejected.length} rejected (${rejected.map((r) => r.reason).join('; ')})`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
