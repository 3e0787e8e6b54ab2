/**
 * The join against OpenTelemetry SDK 1.x (`sdk-metrics-1`, the real 1.x package under an npm
 * alias): the same prototype wrap applied to its MetricReader, a 1.x MeterProvider with a delta
 * periodic reader. In-process because the alias's module name is not the one the hook targets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as sdk1 from 'sdk-metrics-1';
import { joinAppReaders } from '../../../instrumentation/sdk/app-readers';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { ProcessSampler } from '../../../instrumentation/metrics/process-metrics';

describe('joining an SDK 1.x MeterProvider', () => {
  const recorder = new Recorder();
  const sampler = new ProcessSampler();
  const joined: string[] = [];
  const undo = joinAppReaders(recorder, sampler, { onAppReader: (name) => joined.push(name) }).patch(
    require('sdk-metrics-1/build/src/export/MetricReader.js'),
  );
  const exporter = new sdk1.InMemoryMetricExporter(sdk1.AggregationTemporality.DELTA);
  const reader = new sdk1.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new sdk1.MeterProvider({ readers: [reader] });

  afterAll(async () => {
    await provider.shutdown();
    sampler.stop();
    undo?.();
  });

  const exported = (name: string) =>
    exporter
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((s) => s.metrics.map((m) => ({ scope: s.scope.name, m })))
      .filter(({ m }) => m.descriptor.name === name);

  it("notices the reader joining, adds Chatpulse's metrics in the reader's temporality, and leaves out a name the app exports", async () => {
    expect(joined).toEqual(['PeriodicExportingMetricReader']);
    const route = recorder.route('/chat');
    const appDuration = provider.getMeter('app-http').createHistogram('http.server.request.duration', { unit: 's' });
    appDuration.record(0.2);
    recorder.cacheLookup('kb', 'hit', 2);
    recorder.requestStarted('GET');
    recorder.requestFinished('GET', route, 200, 0.2);
    await provider.forceFlush();
    const [lookups] = exported('chatbot.cache.lookups');
    expect(lookups?.scope).toBe('chatpulse');
    expect(lookups?.m.aggregationTemporality).toBe(sdk1.AggregationTemporality.DELTA);
    const hits = (m: typeof lookups) => m?.m.dataPoints.filter((p) => p.attributes['chatbot.cache.result'] === 'hit').map((p) => p.value);
    expect(hits(lookups)).toEqual([2]);
    expect(exported('http.server.request.duration').map((d) => d.scope)).toEqual(['app-http']);

    recorder.cacheLookup('kb', 'hit', 1);
    await provider.forceFlush();
    expect(hits(exported('chatbot.cache.lookups')[0])).toEqual([1]);
  });
});
