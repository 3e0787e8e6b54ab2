import { describe, expect, it } from 'vitest';
import { AggregationTemporality, DataPointType, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { ChatpulseMetricProducer } from '../../../instrumentation/metrics/producer';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { LATENCY_BUCKETS_SECONDS, KPI_THRESHOLDS_SECONDS, METRICS } from '../../../instrumentation/metrics/catalog';
import { ProcessSampler } from '../../../instrumentation/metrics/process-metrics';

function find(ms: MetricData[], name: string): MetricData {
  const m = ms.find((x) => x.descriptor.name === name);
  if (m === undefined) throw new Error(`missing ${name}`);
  return m;
}

describe('ChatpulseMetricProducer', () => {
  it('exports cumulative sums and histograms with the catalog buckets', () => {
    const r = new Recorder();
    const route = r.route('/chat');
    r.streamStarted(route);
    r.firstToken(route, 0.3);
    r.streamEnded(route, 'completed', 1.2);
    const ms = new ChatpulseMetricProducer(r, 'cumulative').metrics();
    const ttft = find(ms, METRICS.timeToFirstToken.name);
    expect(ttft.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(ttft.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    const v = ttft.dataPoints[0]!.value as Histogram;
    expect(v.buckets.boundaries).toEqual(LATENCY_BUCKETS_SECONDS);
    expect(v.count).toBe(1);
    expect(v.sum).toBeCloseTo(0.3);
    expect(v.buckets.counts[LATENCY_BUCKETS_SECONDS.indexOf(0.5)]).toBe(1);
    const streams = find(ms, METRICS.streams.name);
    expect(streams.dataPointType === DataPointType.SUM && streams.isMonotonic).toBe(true);
  });

  it('puts every KPI threshold on an exact bucket edge, and a value equal to an edge in that bucket', () => {
    for (const t of KPI_THRESHOLDS_SECONDS) expect(LATENCY_BUCKETS_SECONDS).toContain(t);
    const r = new Recorder();
    const route = r.route('/edge');
    for (const t of KPI_THRESHOLDS_SECONDS) r.firstToken(route, t);
    const v = find(new ChatpulseMetricProducer(r).metrics(), METRICS.timeToFirstToken.name).dataPoints[0]!.value as Histogram;
    for (const t of KPI_THRESHOLDS_SECONDS) expect(v.buckets.counts[LATENCY_BUCKETS_SECONDS.indexOf(t)]).toBe(1);
  });

  it('exports deltas per reader that add up to the total, while up-down counters stay cumulative', () => {
    const r = new Recorder();
    const route = r.route('/chat');
    const delta = new ChatpulseMetricProducer(r, 'delta');
    const cumulative = new ChatpulseMetricProducer(r, 'cumulative');
    const counts: number[] = [];
    let ttftCount = 0;
    for (const batch of [3, 0, 5]) {
      for (let i = 0; i < batch; i++) {
        r.streamStarted(route);
        r.firstToken(route, 0.1 * (i + 1));
        r.streamEnded(route, 'completed', 1);
      }
      r.streamStarted(route); // one left open per batch
      const ms = delta.metrics();
      const s = find(ms, METRICS.streams.name);
      expect(s.aggregationTemporality).toBe(AggregationTemporality.DELTA);
      counts.push(s.dataPoints.find((p) => p.attributes['chatbot.stream.outcome'] === 'completed')!.value as number);
      ttftCount += (find(ms, METRICS.timeToFirstToken.name).dataPoints[0]!.value as Histogram).count;
      const active = find(ms, METRICS.streamsActive.name);
      expect(active.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    }
    expect(counts).toEqual([3, 0, 5]);
    expect(ttftCount).toBe(8);
    const cum = find(cumulative.metrics(), METRICS.streams.name);
    expect(cum.dataPoints.find((p) => p.attributes['chatbot.stream.outcome'] === 'completed')!.value).toBe(8);
    expect(find(cumulative.metrics(), METRICS.streamsActive.name).dataPoints[0]!.value).toBe(3);
  });

  it('exports process gauges when given a sampler', () => {
    const sampler = new ProcessSampler(0);
    try {
      const ms = new ChatpulseMetricProducer(new Recorder(), 'cumulative', sampler).metrics();
      const util = find(ms, METRICS.memoryUtilization.name).dataPoints[0]!.value as number;
      expect(util).toBeGreaterThan(0);
      expect(util).toBeLessThan(1);
      const eld = find(ms, METRICS.eventLoopDelay.name);
      expect(eld.dataPoints.map((p) => p.attributes['nodejs.eventloop.delay.percentile'])).toEqual(['p50', 'p90', 'p99', 'max', 'mean']);
    } finally {
      sampler.stop();
    }
  });
});
