import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram as OtelHistogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR, METRICS, type MetricDefinition } from './catalog';
import type { HistogramCell } from './histogram';
import { exportFailureCounts } from '../export/export-health';
import type { ProcessSampler } from './process-metrics';
import type { Recorder, Series, SeriesSet } from './recorder';
import { VERSION } from '../../common/version';

export type Temporality = 'cumulative' | 'delta';

const SCOPE = Object.freeze({ name: 'chatpulse', version: VERSION });
const EMPTY_RESOURCE = resourceFromAttributes({});

function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

interface Previous {
  atMs: number;
  value: number;
  counts?: number[];
  sum?: number;
}

/**
 * Bridges the recorder into an OpenTelemetry MetricReader (the SDK's extension point for external
 * sources). One producer per reader: each keeps its own delta baseline, so a delta OTLP reader and
 * a cumulative Prometheus reader can share one recorder.
 */
export class ChatpulseMetricProducer implements MetricProducer {
  private readonly previous = new WeakMap<object, Previous>();

  constructor(
    private readonly recorder: Recorder,
    private readonly temporality: Temporality = 'cumulative',
    private readonly sampler?: ProcessSampler,
  ) {}

  async collect(): Promise<CollectionResult> {
    try {
      return { resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [{ scope: SCOPE, metrics: this.metrics() }] }, errors: [] };
    } catch (err) {
      return { resourceMetrics: { resource: EMPTY_RESOURCE, scopeMetrics: [] }, errors: [err] };
    }
  }

  /** Builds the metric data at this instant; exposed for tests and the health service. */
  metrics(nowMs = Date.now()): MetricData[] {
    const r = this.recorder;
    const out: MetricData[] = [
      this.histogram(r.httpDuration, nowMs),
      this.sum(r.httpActive, false, nowMs),
      this.histogram(r.timeToFirstToken, nowMs),
      this.histogram(r.timeToFirstAudio, nowMs),
      this.histogram(r.timeToFirstTokenBreakdown, nowMs, true),
      this.histogram(r.streamDuration, nowMs),
      this.histogram(r.outputChunks, nowMs),
      // Series of streams that never reported usage or had one chunk stay out: they are not zeros.
      this.histogram(r.timePerOutputChunk, nowMs, true),
      this.histogram(r.tokenUsage, nowMs, true),
      this.sum(r.streamsActive, false, nowMs),
      this.sum(r.streams, true, nowMs),
      this.sum(r.cacheLookups, true, nowMs),
      this.sum(r.errors, true, nowMs),
      this.histogram(r.dbDuration, nowMs),
      // A call's series are resolved together; the ones it did not use (no stream, no usage) stay out.
      this.histogram(r.modelCalls.duration, nowMs, true),
      this.histogram(r.modelCalls.firstChunk, nowMs, true),
      this.histogram(r.modelCalls.chunkGap, nowMs, true),
      this.histogram(r.modelCalls.tokens, nowMs, true),
    ];
    if (this.sampler !== undefined) out.push(...this.processMetrics(nowMs));
    out.push(this.exportFailures(nowMs));
    return out.filter((m) => m.dataPoints.length > 0);
  }

  private descriptor(d: MetricDefinition) {
    return {
      name: d.name,
      description: d.description,
      unit: d.unit,
      valueType: d.kind === 'histogram' || d.unit === 's' || d.unit === '1' ? ValueType.DOUBLE : ValueType.INT,
    };
  }

  private sum(set: SeriesSet<number>, monotonic: boolean, nowMs: number): MetricData {
    // Up-down counters stay cumulative under a delta preference, as the OTel spec prescribes.
    const delta = monotonic && this.temporality === 'delta';
    const end = hrTime(nowMs);
    const points: DataPoint<number>[] = [];
    for (const s of set.all()) {
      if (!delta) {
        points.push({ attributes: s.attributes, startTime: hrTime(s.startTimeMs), endTime: end, value: s.value });
        continue;
      }
      const prev = this.previous.get(s);
      const startMs = prev?.atMs ?? s.startTimeMs;
      const value = s.value - (prev?.value ?? 0);
      this.previous.set(s, { atMs: nowMs, value: s.value });
      points.push({ attributes: s.attributes, startTime: hrTime(startMs), endTime: end, value });
    }
    return {
      descriptor: this.descriptor(set.definition),
      aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: monotonic,
      dataPoints: points,
    };
  }

  private histogram(set: SeriesSet<HistogramCell>, nowMs: number, skipEmpty = false): MetricData {
    const delta = this.temporality === 'delta';
    const end = hrTime(nowMs);
    const points: DataPoint<OtelHistogram>[] = [];
    for (const s of set.all()) {
      const cell = s.value;
      if (skipEmpty && cell.count === 0) continue;
      const counts = Array.from(cell.counts);
      if (!delta) {
        points.push(this.histogramPoint(s, hrTime(s.startTimeMs), end, counts, cell.sum, cell.count, cell));
        continue;
      }
      const prev = this.previous.get(s);
      const dCounts = prev?.counts ? counts.map((c, i) => c - (prev.counts![i] ?? 0)) : counts;
      const dSum = cell.sum - (prev?.sum ?? 0);
      const dCount = cell.count - (prev?.value ?? 0);
      this.previous.set(s, { atMs: nowMs, value: cell.count, counts, sum: cell.sum });
      // min/max are lifetime values; they are only exact for a delta interval when nothing came before.
      const exact = prev === undefined ? cell : undefined;
      points.push(this.histogramPoint(s, hrTime(prev?.atMs ?? s.startTimeMs), end, dCounts, dSum, dCount, exact));
    }
    return {
      descriptor: this.descriptor(set.definition),
      aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: points,
    };
  }

  private histogramPoint(
    s: Series<HistogramCell>,
    start: HrTime,
    end: HrTime,
    counts: number[],
    sum: number,
    count: number,
    minMax: HistogramCell | undefined,
  ): DataPoint<OtelHistogram> {
    const value: OtelHistogram = {
      buckets: { boundaries: s.value.boundaries as number[], counts },
      sum,
      count,
    };
    if (minMax !== undefined && minMax.count > 0) {
      value.min = minMax.min;
      value.max = minMax.max;
    }
    return { attributes: s.attributes, startTime: start, endTime: end, value };
  }

  /** The self-metric of failed exports: cumulative (a count since start), one point per push exporter. */
  private exportFailures(nowMs: number): MetricData {
    return {
      descriptor: this.descriptor(METRICS.exportFailures),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: exportFailureCounts().map((c) => ({ attributes: { [ATTR.EXPORTER]: c.exporter }, startTime: hrTime(this.recorder.startTimeMs), endTime: hrTime(nowMs), value: c.failures })),
    };
  }

  private processMetrics(nowMs: number): MetricData[] {
    const p = this.sampler!.read();
    const end = hrTime(nowMs);
    const start = hrTime(this.recorder.startTimeMs);
    const gauge = (d: MetricDefinition, values: [Attributes, number][]): MetricData => ({
      descriptor: this.descriptor(d),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: values.map(([attributes, value]) => ({ attributes, startTime: end, endTime: end, value })),
    });
    const cpuKey = this.previous.get(METRICS.cpuTime) ?? { atMs: this.recorder.startTimeMs, value: 0, counts: [0, 0] };
    const cpuDelta = this.temporality === 'delta';
    const cpuPoints: DataPoint<number>[] = [
      ['user', p.cpuUserSeconds, cpuKey.counts![0]!] as const,
      ['system', p.cpuSystemSeconds, cpuKey.counts![1]!] as const,
    ].map(([mode, v, prev]) => ({
      attributes: { [ATTR.CPU_MODE]: mode },
      startTime: cpuDelta ? hrTime(cpuKey.atMs) : start,
      endTime: end,
      value: cpuDelta ? v - prev : v,
    }));
    if (cpuDelta) this.previous.set(METRICS.cpuTime, { atMs: nowMs, value: 0, counts: [p.cpuUserSeconds, p.cpuSystemSeconds] });
    const eld = p.eventLoopDelay;
    return [
      gauge(METRICS.memoryRss, [[{}, p.rssBytes]]),
      gauge(METRICS.memoryLimit, [[{}, p.memoryLimitBytes]]),
      gauge(METRICS.memoryUtilization, [[{}, p.memoryUtilization]]),
      gauge(METRICS.heap, [
        [{ [ATTR.HEAP_STAT]: 'used' }, p.heapUsedBytes],
        [{ [ATTR.HEAP_STAT]: 'limit' }, p.heapLimitBytes],
      ]),
      {
        descriptor: this.descriptor(METRICS.cpuTime),
        aggregationTemporality: cpuDelta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: cpuPoints,
      },
      gauge(METRICS.cpuUtilization, [[{}, p.cpuUtilization]]),
      gauge(
        METRICS.eventLoopDelay,
        (['p50', 'p90', 'p99', 'max', 'mean'] as const).map((k) => [{ [ATTR.EVENT_LOOP_PERCENTILE]: k }, eld[k]]),
      ),
    ];
  }
}
