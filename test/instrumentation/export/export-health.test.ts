/**
 * OTLP export failures are not silent: a real OTLP exporter pushing to a local receiver that
 * refuses or hangs is warned about on the first failure, then at most once a minute with the count
 * and the reason; the state and the self-metric count every failure, and a recovery is reported.
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { exportFailureCounts, exporterStates, resetExportTracking, trackExports } from '../../../instrumentation/export/export-health';
import { setLogSink } from '../../../instrumentation/log';
import { ChatpulseMetricProducer } from '../../../instrumentation/metrics/producer';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { startOtlpReceiver, type ReceiverMode } from '../../helpers/otlp-receiver';

afterEach(() => resetExportTracking());

async function run(mode: ReceiverMode, exports: number, stepMs: number) {
  const receiver = await startOtlpReceiver({ mode });
  const lines: string[] = [];
  const restore = setLogSink((l) => lines.push(l));
  let t = Date.parse('2025-01-23T10:00:00Z');
  const recorder = new Recorder();
  // Credentials in the URL are never shown.
  const url = `http://user:pw@127.0.0.1:${receiver.port}/v1/metrics`;
  const exporter = trackExports(new OTLPMetricExporter({ url, timeoutMillis: 300 }), 'OTLP', url, () => t);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000, exportTimeoutMillis: 2000, metricProducers: [new ChatpulseMetricProducer(recorder, 'cumulative')] });
  // A reader collects only once bound to a provider.
  new MeterProvider({ readers: [reader] });
  try {
    for (let i = 0; i < exports; i++) {
      // A simulated interval of stepMs between exports: the throttle reads the tracker's clock.
      await reader.forceFlush().catch((e) => lines.push(`flush: ${(e as Error).message}`));
      t += stepMs;
    }
    return { lines, receiver, state: () => exporterStates()[0]!, advance: (ms: number) => (t += ms), reader };
  } finally {
    restore();
  }
}

describe('OTLP export failures', () => {
  for (const mode of ['refuse', 'hang'] as const) {
    it(`${mode}: a warning at once, then at most once a minute with the count and the reason`, async () => {
      // 65 exports at a (simulated) 1 s interval.
      const { lines, receiver, state, reader } = await run(mode, 65, 1000);
      try {
        const warnings = lines.filter((l) => /OTLP export to/.test(l));
        expect(warnings.length, warnings.join('\n')).toBe(2);
        expect(warnings[0]).toMatch(/^\[chatpulse\] warning: OTLP export to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics failed: .+; metrics are not arriving there/);
        expect(warnings[1]).toMatch(/: 60 failed exports in the last 60 s; last error: .+/);
        expect(warnings.join('\n')).not.toMatch(/user|pw@/);
        const s = state();
        expect(s).toMatchObject({ exporter: 'OTLP', state: 'failing', exports: 65, failures: 65, consecutiveFailures: 65, lastSuccessAt: null });
        expect(s.lastError).toBeTruthy();
        expect(exportFailureCounts()).toEqual([{ exporter: 'OTLP', failures: 65 }]);
      } finally {
        await reader.shutdown().catch(() => undefined);
        await receiver.close();
      }
    }, 60_000);
  }

  it('reports the recovery and the state turns ok; the self-metric is exported', async () => {
    const { lines, receiver, state, reader } = await run('unavailable', 2, 1000);
    try {
      receiver.setMode('ok');
      const restore = setLogSink((l) => lines.push(l));
      await reader.forceFlush();
      restore();
      expect(lines.at(-1)).toMatch(/OTLP export to .* recovered after 2 failed exports/);
      expect(state()).toMatchObject({ state: 'ok', failures: 2, consecutiveFailures: 0 });
      const names = receiver.exports.flatMap((e) => e.metrics.map((m) => m.name));
      expect(names).toContain('chatpulse.export.failures');
    } finally {
      await reader.shutdown().catch(() => undefined);
      await receiver.close();
    }
  }, 30_000);
});
