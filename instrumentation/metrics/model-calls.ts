import type { Attributes } from '@opentelemetry/api';
import { ATTR, GENAI_OVERFLOW, METRICS, type GenAiOperation, type MetricDefinition } from './catalog';
import { HistogramCell } from './histogram';
// Circular with recorder.ts, safely: SeriesSet is only read when a table is constructed.
import { SeriesSet, type Series } from './recorder';

/** Who a model call went to and what it asked for: the attributes of its series. */
export interface ModelCallTarget {
  readonly operation: GenAiOperation;
  readonly provider: string;
  /** Undefined when the request did not name one (the attribute is then left out). */
  readonly requestModel: string | undefined;
  readonly address: string;
  readonly port: number;
}

/** The series one call records into, resolved once per call (at its first chunk or its end). */
export class ModelCallSeries {
  readonly duration: Series<HistogramCell>;
  readonly firstChunk: Series<HistogramCell>;
  readonly chunkGap: Series<HistogramCell>;
  readonly inputTokens: Series<HistogramCell>;
  readonly outputTokens: Series<HistogramCell>;
  private readonly failures = new Map<string, Series<HistogramCell>>();

  constructor(
    private readonly table: ModelCallTable,
    readonly key: string,
    readonly attributes: Attributes,
    /** The bounded model value the health service groups by (`_OTHER` past the limit). */
    readonly model: string,
    readonly provider: string,
  ) {
    const t = table;
    const a = () => attributes;
    this.duration = t.duration.get(key, a);
    this.firstChunk = t.firstChunk.get(key, a);
    this.chunkGap = t.chunkGap.get(key, a);
    this.inputTokens = t.tokens.get(`${key}\0input`, () => ({ ...attributes, [ATTR.TOKEN_TYPE]: 'input' }));
    this.outputTokens = t.tokens.get(`${key}\0output`, () => ({ ...attributes, [ATTR.TOKEN_TYPE]: 'output' }));
  }

  /** The duration series of calls that failed with `errorType` (bounded by the metric's series limit). */
  failed(errorType: string): Series<HistogramCell> {
    let s = this.failures.get(errorType);
    if (s === undefined) {
      s = this.table.duration.get(`${this.key}\0${errorType}`, () => ({ ...this.attributes, [ATTR.ERROR_TYPE]: errorType }));
      this.failures.set(errorType, s);
    }
    return s;
  }
}

/** Model names worth a label: what vendors and servers use (`gpt-4o-mini`, `meta-llama/Llama-3.1-8B`, `ft:…:id`, `claude@2025`). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

/**
 * The GenAI client series. Models (request and response alike) are bounded like routes: past
 * `maxModels` distinct values, and for any value that is not a plain identifier, `_OTHER`: no
 * text a caller put where a model name goes can reach a label. Servers are bounded the same way.
 */
export class ModelCallTable {
  readonly duration: SeriesSet<HistogramCell>;
  readonly firstChunk: SeriesSet<HistogramCell>;
  readonly chunkGap: SeriesSet<HistogramCell>;
  readonly tokens: SeriesSet<HistogramCell>;
  private readonly models = new Set<string>();
  private readonly servers = new Set<string>();
  private readonly calls = new Map<string, ModelCallSeries>();

  constructor(
    maxSeriesPerMetric: number,
    private readonly maxModels: number,
    private readonly maxServers = 32,
  ) {
    const hist = (d: MetricDefinition) => new SeriesSet(d, maxSeriesPerMetric, () => new HistogramCell(d.buckets!));
    this.duration = hist(METRICS.genaiOperationDuration);
    this.firstChunk = hist(METRICS.genaiTimeToFirstChunk);
    this.chunkGap = hist(METRICS.genaiTimePerOutputChunk);
    this.tokens = hist(METRICS.genaiTokenUsage);
  }

  model(name: string): string {
    if (this.models.has(name)) return name;
    if (!MODEL_NAME.test(name) || this.models.size >= this.maxModels) return GENAI_OVERFLOW;
    this.models.add(name);
    return name;
  }

  private server(address: string): string {
    if (this.servers.has(address)) return address;
    if (this.servers.size >= this.maxServers) return GENAI_OVERFLOW;
    this.servers.add(address);
    return address;
  }

  series(target: ModelCallTarget, responseModel: string | undefined): ModelCallSeries {
    const req = target.requestModel === undefined ? undefined : this.model(target.requestModel);
    const res = responseModel === undefined ? undefined : this.model(responseModel);
    const address = this.server(target.address);
    const key = `${target.operation}\0${target.provider}\0${req ?? ''}\0${res ?? ''}\0${address}\0${target.port}`;
    let s = this.calls.get(key);
    if (s === undefined) {
      const attrs: Attributes = { [ATTR.GENAI_OPERATION]: target.operation, [ATTR.GENAI_PROVIDER]: target.provider };
      if (req !== undefined) attrs[ATTR.GENAI_REQUEST_MODEL] = req;
      if (res !== undefined) attrs[ATTR.GENAI_RESPONSE_MODEL] = res;
      attrs[ATTR.SERVER_ADDRESS] = address;
      attrs[ATTR.SERVER_PORT] = target.port;
      s = new ModelCallSeries(this, key, Object.freeze(attrs), req ?? res ?? GENAI_OVERFLOW, target.provider);
      // Bounded: keys are products of bounded sets (operations, providers, models, servers).
      this.calls.set(key, s);
    }
    return s;
  }
}
