/**
 * The metric contract. Every metric name, unit, attribute key and bucket list Chatpulse emits is
 * defined here and nowhere else: dashboards, alert rules and the health service are checked
 * against this module by tests.
 */

/** Explicit histogram bucket edges in seconds. Every KPI threshold (0.5, 1, 1.5, 2, 3, 5, 8 s) is an exact edge. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 30, 60, 120,
]);

/** Database calls are much shorter than streams: finer low buckets, same upper tail. */
export const DB_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * Mean time between output chunks: the OpenTelemetry GenAI conventions' advice for
 * `gen_ai.client.operation.time_per_output_chunk`.
 */
export const CHUNK_GAP_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
]);

/** Output chunks per stream. */
export const CHUNK_COUNT_BUCKETS: readonly number[] = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);

/** Tokens per stream: the GenAI conventions' advice for `gen_ai.client.token.usage`. */
export const TOKEN_BUCKETS: readonly number[] = Object.freeze([
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]);

/**
 * Model-call latencies (duration, time to first chunk, time per output chunk): the OpenTelemetry
 * GenAI conventions' bucket advice. The upstream alert thresholds sit on these edges (1.28, 2.56 s).
 */
export const GENAI_LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
]);

/** KPI thresholds that must be exact bucket edges (src/grading/kpi-table.ts). */
export const KPI_THRESHOLDS_SECONDS: readonly number[] = Object.freeze([0.5, 1, 1.5, 2, 3, 5, 8]);

export const ATTR = Object.freeze({
  EXPORTER: 'chatpulse.exporter',
  HTTP_METHOD: 'http.request.method',
  HTTP_ROUTE: 'http.route',
  HTTP_STATUS: 'http.response.status_code',
  ERROR_TYPE: 'error.type',
  STREAM_OUTCOME: 'chatbot.stream.outcome',
  STREAM_PHASE: 'chatbot.phase',
  CACHE_NAME: 'chatbot.cache.name',
  CACHE_RESULT: 'chatbot.cache.result',
  DB_SYSTEM: 'db.system.name',
  DB_OPERATION: 'db.operation.name',
  EVENT_LOOP_PERCENTILE: 'nodejs.eventloop.delay.percentile',
  CPU_MODE: 'cpu.mode',
  HEAP_STAT: 'v8js.heap.stat',
  TOKEN_TYPE: 'gen_ai.token.type',
  GENAI_OPERATION: 'gen_ai.operation.name',
  GENAI_PROVIDER: 'gen_ai.provider.name',
  GENAI_REQUEST_MODEL: 'gen_ai.request.model',
  GENAI_RESPONSE_MODEL: 'gen_ai.response.model',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
});

/**
 * `gen_ai.operation.name` values Chatpulse reports: the conventions' `chat`, `generate_content`
 * and `embeddings`, and `text_to_speech` (no convention value exists yet) for speech synthesis.
 */
export const GENAI_OPERATIONS = Object.freeze(['chat', 'generate_content', 'embeddings', 'text_to_speech'] as const);
export type GenAiOperation = (typeof GENAI_OPERATIONS)[number];

/** Model, provider or server value past its cardinality limit, or not a plain identifier. */
export const GENAI_OVERFLOW = '_OTHER';

/** `gen_ai.token.type` values. */
export type TokenType = 'input' | 'output';

/**
 * `chatbot.phase` values of the first-token breakdown: the app before the model call, the model
 * to its first output chunk, the app after it to the stream's first token.
 */
export const FIRST_TOKEN_PHASES = Object.freeze(['app_before_model', 'model', 'app_after_model'] as const);
export type FirstTokenPhase = (typeof FIRST_TOKEN_PHASES)[number];

export type StreamOutcome = 'completed' | 'failed' | 'aborted';
export const STREAM_OUTCOMES: readonly StreamOutcome[] = Object.freeze(['completed', 'failed', 'aborted']);

export type CacheResult = 'hit' | 'miss';

/** Documented error classes for `chatbot.errors`. Anything else is recorded as `other`. */
export const ERROR_TYPES = Object.freeze([
  'llm',
  'tts',
  'network',
  'timeout',
  'validation',
  'database',
  'cache',
  'http',
  'other',
] as const);
export type ErrorType = (typeof ERROR_TYPES)[number];

/** Route value for requests whose route template is unknown (no framework route matched). */
export const ROUTE_UNMATCHED = 'unmatched';
/** Route value once the route cardinality limit is reached. */
export const ROUTE_OVERFLOW = '_OTHER';

export type InstrumentKind = 'histogram' | 'counter' | 'updowncounter' | 'gauge';

export interface MetricDefinition {
  /** OpenTelemetry name. */
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
  readonly buckets?: readonly number[];
}

/** The attributes every model-call metric carries (besides `error.type` and `gen_ai.token.type`). */
const GENAI_CALL_ATTRIBUTES: readonly string[] = [
  ATTR.GENAI_OPERATION,
  ATTR.GENAI_PROVIDER,
  ATTR.GENAI_REQUEST_MODEL,
  ATTR.GENAI_RESPONSE_MODEL,
  ATTR.SERVER_ADDRESS,
  ATTR.SERVER_PORT,
];

function def(d: MetricDefinition): MetricDefinition {
  return Object.freeze({ ...d, attributes: Object.freeze([...d.attributes]) });
}

export const METRICS = Object.freeze({
  httpServerDuration: def({
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP server requests.',
    attributes: [ATTR.HTTP_METHOD, ATTR.HTTP_ROUTE, ATTR.HTTP_STATUS, ATTR.ERROR_TYPE],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  httpServerActive: def({
    name: 'http.server.active_requests',
    kind: 'updowncounter',
    unit: '{request}',
    description: 'Number of active HTTP server requests.',
    attributes: [ATTR.HTTP_METHOD],
  }),
  timeToFirstToken: def({
    name: 'chatbot.stream.time_to_first_token',
    kind: 'histogram',
    unit: 's',
    description: 'Time from request arrival to the first token written to the stream.',
    attributes: [ATTR.HTTP_ROUTE],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  timeToFirstTokenBreakdown: def({
    name: 'chatbot.stream.time_to_first_token.breakdown',
    kind: 'histogram',
    unit: 's',
    description:
      'The time to first token of streams that waited on a model call, split by chatbot.phase: the app before the call (app_before_model), the model to its first output chunk (model), the app after it to the first token written (app_after_model).',
    attributes: [ATTR.HTTP_ROUTE, ATTR.STREAM_PHASE],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  timeToFirstAudio: def({
    name: 'chatbot.stream.time_to_first_audio',
    kind: 'histogram',
    unit: 's',
    description: 'Time from request arrival to the first audio chunk written to the stream.',
    attributes: [ATTR.HTTP_ROUTE],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  streamDuration: def({
    name: 'chatbot.stream.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time from request arrival to the end of the stream (complete response latency).',
    attributes: [ATTR.HTTP_ROUTE, ATTR.STREAM_OUTCOME],
    buckets: LATENCY_BUCKETS_SECONDS,
  }),
  outputChunks: def({
    name: 'chatbot.stream.output_chunks',
    kind: 'histogram',
    unit: '{chunk}',
    description: 'Content chunks (events carrying generated output) per stream.',
    attributes: [ATTR.HTTP_ROUTE],
    buckets: CHUNK_COUNT_BUCKETS,
  }),
  timePerOutputChunk: def({
    name: 'chatbot.stream.time_per_output_chunk',
    kind: 'histogram',
    unit: 's',
    description: 'Mean time between the content chunks of a stream, after its first token (streams with two or more).',
    attributes: [ATTR.HTTP_ROUTE],
    buckets: CHUNK_GAP_BUCKETS_SECONDS,
  }),
  streamTokens: def({
    name: 'chatbot.stream.tokens',
    kind: 'histogram',
    unit: '{token}',
    description: 'Token usage a stream reported itself (OpenAI usage chunk, Anthropic message_delta, AI SDK metadata), by type.',
    attributes: [ATTR.HTTP_ROUTE, ATTR.TOKEN_TYPE],
    buckets: TOKEN_BUCKETS,
  }),
  streamsActive: def({
    name: 'chatbot.streams.active',
    kind: 'updowncounter',
    unit: '{stream}',
    description: 'Number of streams currently open.',
    attributes: [ATTR.HTTP_ROUTE],
  }),
  streams: def({
    name: 'chatbot.streams',
    kind: 'counter',
    unit: '{stream}',
    description: 'Finished streams by outcome.',
    attributes: [ATTR.HTTP_ROUTE, ATTR.STREAM_OUTCOME],
  }),
  cacheLookups: def({
    name: 'chatbot.cache.lookups',
    kind: 'counter',
    unit: '{lookup}',
    description: 'Cache lookups by cache and result.',
    attributes: [ATTR.CACHE_NAME, ATTR.CACHE_RESULT],
  }),
  errors: def({
    name: 'chatbot.errors',
    kind: 'counter',
    unit: '{error}',
    description: 'Errors by class.',
    attributes: [ATTR.ERROR_TYPE],
  }),
  dbDuration: def({
    name: 'db.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of database client operations.',
    attributes: [ATTR.DB_SYSTEM, ATTR.DB_OPERATION, ATTR.ERROR_TYPE],
    buckets: DB_BUCKETS_SECONDS,
  }),
  // Model calls the app makes (OpenTelemetry GenAI client conventions, Development stability:
  // the names live here only, so a rename upstream is one change).
  genaiOperationDuration: def({
    name: 'gen_ai.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    description: 'GenAI operation duration: from the request to the last byte of the response (or the failure).',
    attributes: [...GENAI_CALL_ATTRIBUTES, ATTR.ERROR_TYPE],
    buckets: GENAI_LATENCY_BUCKETS_SECONDS,
  }),
  genaiTimeToFirstChunk: def({
    name: 'gen_ai.client.operation.time_to_first_chunk',
    kind: 'histogram',
    unit: 's',
    description: 'Time from the request to the first response chunk that carries output (text, tool call, reasoning, audio); streaming calls only.',
    attributes: GENAI_CALL_ATTRIBUTES,
    buckets: GENAI_LATENCY_BUCKETS_SECONDS,
  }),
  genaiTimePerOutputChunk: def({
    name: 'gen_ai.client.operation.time_per_output_chunk',
    kind: 'histogram',
    unit: 's',
    description: 'Time between an output chunk and the previous one, for each output chunk after the first; streaming calls only.',
    attributes: GENAI_CALL_ATTRIBUTES,
    buckets: GENAI_LATENCY_BUCKETS_SECONDS,
  }),
  genaiTokenUsage: def({
    name: 'gen_ai.client.token.usage',
    kind: 'histogram',
    unit: '{token}',
    description: 'Input and output tokens per model call, as the API reported them (input includes cached input).',
    attributes: [...GENAI_CALL_ATTRIBUTES, ATTR.TOKEN_TYPE],
    buckets: TOKEN_BUCKETS,
  }),
  memoryRss: def({
    name: 'process.memory.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Resident set size of the process.',
    attributes: [],
  }),
  memoryLimit: def({
    name: 'process.memory.limit',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory available to the process: the cgroup limit when set, else total system memory.',
    attributes: [],
  }),
  memoryUtilization: def({
    name: 'process.memory.utilization',
    kind: 'gauge',
    unit: '1',
    description: 'Resident set size divided by process.memory.limit.',
    attributes: [],
  }),
  heap: def({
    name: 'v8js.memory.heap',
    kind: 'gauge',
    unit: 'By',
    description: 'V8 heap: used bytes and the heap size limit.',
    attributes: [ATTR.HEAP_STAT],
  }),
  cpuTime: def({
    name: 'process.cpu.time',
    kind: 'counter',
    unit: 's',
    description: 'CPU time spent by the process.',
    attributes: [ATTR.CPU_MODE],
  }),
  cpuUtilization: def({
    name: 'process.cpu.utilization',
    kind: 'gauge',
    unit: '1',
    description: 'CPU time since the previous collection divided by wall time and available CPUs.',
    attributes: [],
  }),
  eventLoopDelay: def({
    name: 'nodejs.eventloop.delay',
    kind: 'gauge',
    unit: 's',
    description: 'Event loop delay since the previous collection, by percentile (p50, p90, p99, max, mean).',
    attributes: [ATTR.EVENT_LOOP_PERCENTILE],
  }),
  exportFailures: def({
    name: 'chatpulse.export.failures',
    kind: 'counter',
    unit: '{export}',
    description: "Chatpulse's own push exports (OTLP) that failed: the collector refused, reset or did not answer.",
    attributes: [ATTR.EXPORTER],
  }),
} satisfies Record<string, MetricDefinition>);

export type MetricKey = keyof typeof METRICS;

/**
 * The series names the OpenTelemetry Prometheus exporter derives from an OTel metric: dots become
 * underscores, monotonic counters get `_total`, histograms expose `_bucket`, `_sum` and `_count`.
 */
export function prometheusSeriesNames(m: MetricDefinition): string[] {
  const base = m.name.replace(/[^a-zA-Z0-9_:]/g, '_');
  switch (m.kind) {
    case 'histogram':
      return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
    case 'counter':
      return [`${base}_total`];
    default:
      return [base];
  }
}

/** Prometheus label name for an OTel attribute key. */
export function prometheusLabel(attribute: string): string {
  return attribute.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Every Prometheus series name Chatpulse exports (plus the exporter's `target_info`). */
export function allPrometheusSeriesNames(): Set<string> {
  const names = new Set<string>(['target_info']);
  for (const m of Object.values(METRICS)) for (const n of prometheusSeriesNames(m)) names.add(n);
  return names;
}
