import { afterAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { createMetricProducer, start } from '../../../index';

/**
 * An app that runs its own OpenTelemetry SDK: it installs Chatpulse's hooks with
 * `start({ exporters: [] })` and adds `createMetricProducer()` to its own reader.
 */
describe('with the app’s own OpenTelemetry SDK', () => {
  const runtime = start({ env: {}, exporters: [] });
  const exporter = new PrometheusExporter({ port: 0, preventServerStart: true, metricProducers: [createMetricProducer()] });
  const provider = new MeterProvider({ readers: [exporter] });
  const ownCounter = provider.getMeter('app').createCounter('app.signups');
  let server: http.Server;

  afterAll(async () => {
    server?.close();
    await provider.shutdown();
    await runtime.shutdown();
  });

  it('exports Chatpulse stream metrics next to the app’s own metrics through the app’s reader', async () => {
    expect(runtime.meterProvider).toBeUndefined();
    server = http.createServer((req, res) => {
      if (req.url === '/metrics') return exporter.getMetricsRequestHandler(req, res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      setTimeout(() => res.end('data: {"token":"x"}\n\n'), 120);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await fetch(`${base}/chat`)).text();
    ownCounter.add(2);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^app_signups_total\{[^}]*\} 2$/m);
    const ttftCount = /^chatbot_stream_time_to_first_token_count\{[^}]*http_route="unmatched"[^}]*\} (\d+)$/m.exec(text);
    expect(ttftCount?.[1]).toBe('1');
    const ttftSum = Number(/^chatbot_stream_time_to_first_token_sum\{[^}]*\} ([\d.]+)$/m.exec(text)?.[1]);
    expect(ttftSum).toBeGreaterThanOrEqual(0.118);
    expect(ttftSum).toBeLessThan(0.16);
    expect(text).toMatch(/^chatbot_streams_total\{[^}]*chatbot_stream_outcome="completed"[^}]*\} 1$/m);
    // The producer passed by hand and the automatic join to the app's readers do not add up.
    expect(text.match(/^# TYPE chatbot_stream_time_to_first_token /gm)).toHaveLength(1);
  });
});
