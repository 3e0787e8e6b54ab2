import type { Attributes } from '@opentelemetry/api';
import { HistogramCell } from './histogram';
import {
  ATTR,
  ERROR_TYPES,
  FIRST_TOKEN_PHASES,
  METRICS,
  ROUTE_OVERFLOW,
  ROUTE_UNMATCHED,
  STREAM_OUTCOMES,
  type CacheResult,
  type ErrorType,
  type MetricDefinition,
  type StreamOutcome,
  type TokenType,
} from './catalog';
import { ModelCallTable, type ModelCallSeries } from './model-calls';

/** One time series: its attributes, when it started, and its running value. */
export interface Series<V> {
  readonly attributes: Attributes;
  readonly startTimeMs: number;
  value: V;
}

/** Attributes marking the series that absorbs everything past a metric's cardinality limit. */
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/**
 * The series of one metric, keyed by a string the caller derives from the attributes. Past
 * `limit` distinct series, new attribute sets share a single overflow series, so memory stays
 * bounded whatever the traffic.
 */
export class SeriesSet<V> {
  readonly definition: MetricDefinition;
  readonly series = new Map<string, Series<V>>();
  private readonly limit: number;
  private readonly init: () => V;
  private overflow: Series<V> | undefined;

  constructor(definition: MetricDefinition, limit: number, init: () => V) {
    this.definition = definition;
    this.limit = limit;
    this.init = init;
  }

  get(key: string, attributes: () => Attributes): Series<V> {
    let s = this.series.get(key);
    if (s !== undefined) return s;
    if (this.series.size >= this.limit) {
      if (this.overflow === undefined) {
        this.overflow = { attributes: OVERFLOW_ATTRIBUTES, startTimeMs: Date.now(), value: this.init() };
      }
      return this.overflow;
    }
    s = { attributes: Object.freeze(attributes()), startTimeMs: Date.now(), value: this.init() };
    this.series.set(key, s);
    return s;
  }

  *all(): IterableIterator<Series<V>> {
    yield* this.series.values();
    if (this.overflow !== undefined) yield this.overflow;
  }
}

type Counter = SeriesSet<number>;
type Histogram = SeriesSet<HistogramCell>;

/** Stream series of one route, created on the route's first stream so plain routes export none. */
class StreamSeries {
  readonly ttft: Series<HistogramCell>;
  readonly ttfa: Series<HistogramCell>;
  readonly active: Series<number>;
  readonly chunks: Series<HistogramCell>;
  readonly chunkGap: Series<HistogramCell>;
  readonly inputTokens: Series<HistogramCell>;
  readonly outputTokens: Series<HistogramCell>;
  /** By outcome index (outcomeIndex()): an element load, not a string-keyed property lookup. */
  readonly duration: Series<HistogramCell>[] = [];
  readonly finished: Series<number>[] = [];
  private phaseSeries: Series<HistogramCell>[] | undefined;
  private readonly routeName: string;
  private readonly recorder: Recorder;

  /** The first-token breakdown's series, in FIRST_TOKEN_PHASES order: made on the route's first breakdown only. */
  get phases(): Series<HistogramCell>[] {
    return (this.phaseSeries ??= FIRST_TOKEN_PHASES.map((p) =>
      this.recorder.timeToFirstTokenBreakdown.get(`${this.routeName}\0${p}`, () => ({ [ATTR.HTTP_ROUTE]: this.routeName, [ATTR.STREAM_PHASE]: p })),
    ));
  }

  constructor(route: string, r: Recorder) {
    this.routeName = route;
    this.recorder = r;
    const byRoute = () => ({ [ATTR.HTTP_ROUTE]: route });
    this.ttft = r.timeToFirstToken.get(route, byRoute);
    this.ttfa = r.timeToFirstAudio.get(route, byRoute);
    this.active = r.streamsActive.get(route, byRoute);
    this.chunks = r.outputChunks.get(route, byRoute);
    this.chunkGap = r.timePerOutputChunk.get(route, byRoute);
    const byType = (t: TokenType) => () => ({ [ATTR.HTTP_ROUTE]: route, [ATTR.TOKEN_TYPE]: t });
    this.inputTokens = r.tokenUsage.get(`${route}\0input`, byType('input'));
    this.outputTokens = r.tokenUsage.get(`${route}\0output`, byType('output'));
    for (const o of STREAM_OUTCOMES) {
      const attrs = () => ({ [ATTR.HTTP_ROUTE]: route, [ATTR.STREAM_OUTCOME]: o });
      this.duration.push(r.streamDuration.get(`${route}\0${o}`, attrs));
      this.finished.push(r.streams.get(`${route}\0${o}`, attrs));
    }
  }
}

/** Index of an outcome in STREAM_OUTCOMES order. */
function outcomeIndex(outcome: StreamOutcome): number {
  return outcome === 'completed' ? 0 : outcome === 'failed' ? 1 : 2;
}

/** Per-route series handles, resolved once per route so the hot path builds no keys. */
class RouteSeries {
  readonly route: string;
  /** HTTP duration series by `status * 1024 + method index`. */
  readonly http = new Map<number, Series<HistogramCell>>();
  private streamSeries: StreamSeries | undefined;
  private readonly recorder: Recorder;

  constructor(route: string, recorder: Recorder) {
    this.route = route;
    this.recorder = recorder;
  }

  get stream(): StreamSeries {
    return (this.streamSeries ??= new StreamSeries(this.route, this.recorder));
  }
}

/**
 * One cache's lookup series, resolved once: what a hot path (the ioredis hook) records into with
 * Recorder.cacheCounted(), without a map lookup or a key string per lookup.
 */
export interface CacheSeries {
  /** The cache name as asked for (listeners see it), whatever series it landed in. */
  readonly cache: string;
  readonly hit: Series<number>;
  readonly miss: Series<number>;
}

/** Callbacks for in-process consumers (the health service's sliding window). */
export interface RecorderListener {
  onStreamStart?(route: string): void;
  onFirstToken?(route: string, seconds: number): void;
  onFirstAudio?(route: string, seconds: number): void;
  /** A stream's first token split around the model call it waited for (seconds each). */
  onFirstTokenBreakdown?(route: string, appBefore: number, model: number, appAfter: number): void;
  onStreamEnd?(route: string, outcome: StreamOutcome, seconds: number): void;
  /** A stream's content chunks and, with two or more, the mean time between them (else undefined). */
  onStreamOutput?(route: string, chunks: number, secondsPerChunk: number | undefined): void;
  /** Token usage a stream reported (-1 for a type it did not report). */
  onStreamTokens?(route: string, input: number, output: number): void;
  onHttpRequest?(method: string, route: string, status: number, seconds: number): void;
  onCacheLookup?(cache: string, result: CacheResult, count: number): void;
  onError?(type: ErrorType): void;
  /** A model call the app made ended (`firstChunkSeconds` -1 when it streamed no output). */
  onModelCall?(call: ModelCallReport): void;
}

/** One finished model call, as the health service sees it. */
export interface ModelCallReport {
  readonly provider: string;
  /** The bounded model (request model, else response model, else `_OTHER`). */
  readonly model: string;
  readonly operation: string;
  readonly seconds: number;
  readonly firstChunkSeconds: number;
  /** Undefined when the call succeeded. */
  readonly errorType: string | undefined;
}

export interface RecorderLimits {
  /** Distinct route values before new ones collapse into `_OTHER`. */
  readonly maxRoutes: number;
  /** Distinct series per metric before the overflow series absorbs the rest. */
  readonly maxSeriesPerMetric: number;
  /** Distinct cache names. */
  readonly maxCaches: number;
  /** Distinct model names (request and response) before new ones collapse into `_OTHER`. */
  readonly maxModels?: number;
}

export const DEFAULT_LIMITS: RecorderLimits = Object.freeze({
  maxRoutes: 100,
  maxSeriesPerMetric: 2000,
  maxCaches: 32,
  maxModels: 50,
});

const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const METHOD_INDEX = new Map(KNOWN_METHODS.map((m, i) => [m, i]));
const OTHER_METHOD = '_OTHER';
const ERROR_TYPE_SET: ReadonlySet<string> = new Set(ERROR_TYPES);

/** Semantic conventions: unknown methods are reported as `_OTHER`. */
export function normalizeMethod(method: string | undefined): string {
  return method !== undefined && METHOD_INDEX.has(method) ? method : OTHER_METHOD;
}

/**
 * The process-wide store every hook records into. All recording methods are allocation-light and
 * never throw; the metric producer reads the series at collection time.
 */
export class Recorder {
  readonly startTimeMs = Date.now();
  readonly limits: RecorderLimits;

  readonly httpDuration: Histogram;
  readonly httpActive: Counter;
  readonly timeToFirstToken: Histogram;
  readonly timeToFirstAudio: Histogram;
  readonly timeToFirstTokenBreakdown: Histogram;
  readonly streamDuration: Histogram;
  readonly outputChunks: Histogram;
  readonly timePerOutputChunk: Histogram;
  readonly tokenUsage: Histogram;
  readonly streamsActive: Counter;
  readonly streams: Counter;
  readonly cacheLookups: Counter;
  readonly errors: Counter;
  readonly dbDuration: Histogram;
  /** The GenAI client series (model calls the app makes). */
  readonly modelCalls: ModelCallTable;

  private readonly routes = new Map<string, RouteSeries>();
  private readonly activeByMethod = new Map<string, Series<number>>();
  private overflowRoute: RouteSeries | undefined;
  private readonly cacheSeriesByName = new Map<string, { hit: Series<number>; miss: Series<number> }>();
  private listeners: RecorderListener[] = [];

  constructor(limits: RecorderLimits = DEFAULT_LIMITS) {
    this.limits = limits;
    const n = limits.maxSeriesPerMetric;
    const hist = (d: MetricDefinition) => new SeriesSet(d, n, () => new HistogramCell(d.buckets!));
    const count = (d: MetricDefinition) => new SeriesSet(d, n, () => 0);
    this.httpDuration = hist(METRICS.httpServerDuration);
    this.httpActive = count(METRICS.httpServerActive);
    this.timeToFirstToken = hist(METRICS.timeToFirstToken);
    this.timeToFirstAudio = hist(METRICS.timeToFirstAudio);
    this.timeToFirstTokenBreakdown = hist(METRICS.timeToFirstTokenBreakdown);
    this.streamDuration = hist(METRICS.streamDuration);
    this.outputChunks = hist(METRICS.outputChunks);
    this.timePerOutputChunk = hist(METRICS.timePerOutputChunk);
    this.tokenUsage = hist(METRICS.streamTokens);
    this.streamsActive = count(METRICS.streamsActive);
    this.streams = count(METRICS.streams);
    this.cacheLookups = count(METRICS.cacheLookups);
    this.errors = count(METRICS.errors);
    this.dbDuration = hist(METRICS.dbDuration);
    this.modelCalls = new ModelCallTable(n, limits.maxModels ?? DEFAULT_LIMITS.maxModels!);
  }

  addListener(listener: RecorderListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Resolves a route template to its series; unknown routes share one value, excess ones another. */
  route(template: string | undefined): RouteSeries {
    const key = template === undefined || template === '' ? ROUTE_UNMATCHED : template;
    const hit = this.routes.get(key);
    if (hit !== undefined) return hit;
    if (this.routes.size >= this.limits.maxRoutes) {
      return (this.overflowRoute ??= new RouteSeries(ROUTE_OVERFLOW, this));
    }
    const rs = new RouteSeries(key, this);
    this.routes.set(key, rs);
    return rs;
  }

  /** Active-request series by method, resolved once: the per-request path allocates nothing. */
  private activeSeries(method: string): Series<number> {
    let s = this.activeByMethod.get(method);
    if (s === undefined) {
      s = this.httpActive.get(method, () => ({ [ATTR.HTTP_METHOD]: method }));
      this.activeByMethod.set(method, s);
    }
    return s;
  }

  requestStarted(method: string): void {
    this.activeSeries(method).value += 1;
  }

  requestFinished(method: string, route: RouteSeries, status: number, seconds: number): void {
    this.activeSeries(method).value -= 1;
    const key = status * 1024 + (METHOD_INDEX.get(method) ?? KNOWN_METHODS.length);
    let s = route.http.get(key);
    if (s === undefined) {
      const attrs: Attributes = {
        [ATTR.HTTP_METHOD]: method,
        [ATTR.HTTP_ROUTE]: route.route,
        [ATTR.HTTP_STATUS]: status,
      };
      // Semantic conventions: server errors carry the status code as error.type.
      if (status >= 500) attrs[ATTR.ERROR_TYPE] = String(status);
      s = this.httpDuration.get(`${method}\0${status}\0${route.route}`, () => attrs);
      route.http.set(key, s);
    }
    s.value.record(seconds);
    for (const l of this.listeners) l.onHttpRequest?.(method, route.route, status, seconds);
  }

  streamStarted(route: RouteSeries): void {
    route.stream.active.value += 1;
    for (const l of this.listeners) l.onStreamStart?.(route.route);
  }

  firstToken(route: RouteSeries, seconds: number): void {
    route.stream.ttft.value.record(seconds);
    for (const l of this.listeners) l.onFirstToken?.(route.route, seconds);
  }

  firstTokenBreakdown(route: RouteSeries, appBefore: number, model: number, appAfter: number): void {
    const p = route.stream.phases;
    p[0]!.value.record(appBefore);
    p[1]!.value.record(model);
    p[2]!.value.record(appAfter);
    for (const l of this.listeners) l.onFirstTokenBreakdown?.(route.route, appBefore, model, appAfter);
  }

  firstAudio(route: RouteSeries, seconds: number): void {
    route.stream.ttfa.value.record(seconds);
    for (const l of this.listeners) l.onFirstAudio?.(route.route, seconds);
  }

  streamEnded(route: RouteSeries, outcome: StreamOutcome, seconds: number): void {
    const st = route.stream;
    st.active.value -= 1;
    const i = outcomeIndex(outcome);
    st.duration[i]!.value.record(seconds);
    st.finished[i]!.value += 1;
    for (const l of this.listeners) l.onStreamEnd?.(route.route, outcome, seconds);
  }

  streamOutput(route: RouteSeries, chunks: number, secondsPerChunk: number | undefined): void {
    const st = route.stream;
    st.chunks.value.record(chunks);
    if (secondsPerChunk !== undefined) st.chunkGap.value.record(secondsPerChunk);
    for (const l of this.listeners) l.onStreamOutput?.(route.route, chunks, secondsPerChunk);
  }

  streamTokens(route: RouteSeries, input: number, output: number): void {
    const st = route.stream;
    if (input >= 0) st.inputTokens.value.record(input);
    if (output >= 0) st.outputTokens.value.record(output);
    for (const l of this.listeners) l.onStreamTokens?.(route.route, input, output);
  }

  private cacheSeriesPair(cache: string): { hit: Series<number>; miss: Series<number> } {
    let c = this.cacheSeriesByName.get(cache);
    if (c === undefined) {
      const name = this.cacheSeriesByName.size >= this.limits.maxCaches ? ROUTE_OVERFLOW : cache;
      c = this.cacheSeriesByName.get(name);
      if (c === undefined) {
        const series = (r: CacheResult) =>
          this.cacheLookups.get(`${name}\0${r}`, () => ({ [ATTR.CACHE_NAME]: name, [ATTR.CACHE_RESULT]: r }));
        c = { hit: series('hit'), miss: series('miss') };
        this.cacheSeriesByName.set(name, c);
      }
    }
    return c;
  }

  cacheLookup(cache: string, result: CacheResult, count = 1): void {
    this.cacheSeriesPair(cache)[result].value += count;
    for (const l of this.listeners) l.onCacheLookup?.(cache, result, count);
  }

  /** A cache's series, for cacheCounted(): resolve once per cache, record many times. */
  cacheSeries(cache: string): CacheSeries {
    const { hit, miss } = this.cacheSeriesPair(cache);
    return { cache, hit, miss };
  }

  /** `hits` hits and `misses` misses of one cache (either may be 0), as cacheLookup() counts them. */
  cacheCounted(c: CacheSeries, hits: number, misses: number): void {
    if (hits > 0) c.hit.value += hits;
    if (misses > 0) c.miss.value += misses;
    const ls = this.listeners;
    if (ls.length === 0) return;
    if (hits > 0) for (const l of ls) l.onCacheLookup?.(c.cache, 'hit', hits);
    if (misses > 0) for (const l of ls) l.onCacheLookup?.(c.cache, 'miss', misses);
  }

  error(type: string): void {
    const t = (ERROR_TYPE_SET.has(type) ? type : 'other') as ErrorType;
    this.errors.get(t, () => ({ [ATTR.ERROR_TYPE]: t })).value += 1;
    for (const l of this.listeners) l.onError?.(t);
  }

  modelFirstChunk(series: ModelCallSeries, seconds: number): void {
    series.firstChunk.value.record(seconds);
  }

  modelChunkGap(series: ModelCallSeries, seconds: number): void {
    series.chunkGap.value.record(seconds);
  }

  /** A model call ended: its duration (by error type when it failed), its usage (-1: not reported). */
  modelCallEnded(
    series: ModelCallSeries,
    operation: string,
    errorType: string | undefined,
    seconds: number,
    firstChunkSeconds: number,
    input: number,
    output: number,
  ): void {
    (errorType === undefined ? series.duration : series.failed(errorType)).value.record(seconds);
    if (input >= 0) series.inputTokens.value.record(input);
    if (output >= 0) series.outputTokens.value.record(output);
    if (this.listeners.length === 0) return;
    const report: ModelCallReport = { provider: series.provider, model: series.model, operation, seconds, firstChunkSeconds, errorType };
    for (const l of this.listeners) l.onModelCall?.(report);
  }

  /**
   * The duration series of one database operation and outcome. Callers on a hot path resolve it
   * once per (operation, error type) and record into it directly: no key string per call.
   */
  dbSeries(system: string, operation: string, errorType: string | undefined): Series<HistogramCell> {
    const key = `${system}\0${operation}\0${errorType ?? ''}`;
    return this.dbDuration.get(key, () => {
      const attrs: Attributes = { [ATTR.DB_SYSTEM]: system, [ATTR.DB_OPERATION]: operation };
      if (errorType !== undefined) attrs[ATTR.ERROR_TYPE] = errorType;
      return attrs;
    });
  }

  dbOperation(system: string, operation: string, errorType: string | undefined, seconds: number): void {
    this.dbSeries(system, operation, errorType).value.record(seconds);
  }
}

export type { RouteSeries };
