/**
 * Apps that run their own OpenTelemetry SDK (NodeSDK with the auto-instrumentations and one
 * metric reader), started under the hook in a child process with no code for Chatpulse: its
 * metrics go through the app's reader with the app's resource, once per name, and Chatpulse's
 * default endpoint gives the app's exporter its port.
 *
 * The "both want the default port" case uses OTEL_EXPORTER_PROMETHEUS_PORT, which the app's
 * PrometheusExporter and Chatpulse both read, set to a free port of the test's: the suite's other
 * children may hold 9464 itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FIXTURES, REGISTER, canConnect, freePort, get, killAllChildren, parsePrometheus, scrape, spawnApp, waitUntil, type AppChild } from '../../fixtures/harness';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver';

const CJS_APP = path.join(FIXTURES, 'own-sdk', 'app.js');
const ESM_APP = path.join(FIXTURES, 'own-sdk', 'app.mjs');
const receivers: OtlpReceiver[] = [];

afterAll(async () => {
  await killAllChildren();
  await Promise.all(receivers.map((r) => r.close()));
});

function env(extra: Record<string, string>): Record<string, string> {
  return {
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    CHATPULSE_DEBUG: 'true',
    ...extra,
  };
}

async function chat(app: AppChild): Promise<void> {
  const r = await get(`http://127.0.0.1:${app.port}/chat`);
  expect(r.body).toContain('[DONE]');
}

/** Every metric family is declared once: two `# TYPE` lines for one name is the collision. */
function typeLines(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^# TYPE (\S+) /gm)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  return counts;
}

async function stops(app: AppChild): Promise<void> {
  app.proc.kill('SIGTERM');
  await app.waitExit(10_000);
  expect(app.stdout()).toContain('SDK_SHUT_DOWN');
  expect(app.stderr()).not.toMatch(/FIXTURE_UNHANDLED_REJECTION|instrumentation error suppressed/);
}

describe.each([
  ['CommonJS, --require', CJS_APP, '--require', '0', '@opentelemetry/instrumentation-http'],
  // The ESM app starts its SDK after a top-level await, when Chatpulse's endpoint already listens.
  // Its http instrumentation sees nothing (OpenTelemetry needs its own ESM loader hook for
  // node:http imports), so http.server.request.duration is Chatpulse's, still once.
  ['ESM, --import', ESM_APP, '--import', '400', 'chatpulse'],
])('an app with NodeSDK and a PrometheusExporter on the default port (%s)', (_name, script, flag, delay, httpScope) => {
  it("serves the chatbot metrics on the app's endpoint with the app's resource, each name once; the app's exporter keeps its port", async () => {
    const port = await freePort();
    const app = await spawnApp({
      nodeArgs: [flag, REGISTER],
      script,
      env: env({ OWN_READER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_SERVICE_NAME: 'own-sdk-app', SDK_START_DELAY_MS: delay }),
      readyTimeoutMs: 20_000,
    });
    await app.waitStdout(/APP_EXPORTER_(UP|FAILED)/, 10_000);
    expect(app.stdout()).toContain('APP_EXPORTER_UP');
    await chat(app);
    await get(`http://127.0.0.1:${app.port}/signup`);

    const text = await scrape(`http://localhost:${port}/metrics`);
    const samples = parsePrometheus(text);
    // The app's endpoint: its own metric, its resource, and Chatpulse's stream metrics.
    expect(samples.find((s) => s.name === 'app_signups_total')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'target_info')?.labels.service_name).toBe('own-sdk-app');
    const ttft = samples.filter((s) => s.name === 'chatbot_stream_time_to_first_token_count');
    expect(ttft.map((s) => [s.labels.otel_scope_name, s.value])).toEqual([['chatpulse', 1]]);
    expect(samples.find((s) => s.name === 'chatbot_streams_total' && s.labels.chatbot_stream_outcome === 'completed')?.value).toBe(1);

    const types = typeLines(text);
    expect([...types].filter(([, n]) => n > 1)).toEqual([]);
    expect(types.has('chatbot_stream_time_to_first_token')).toBe(true);
    // When the app's http instrumentation records http.server.request.duration, its copy alone is served.
    const duration = samples.filter((s) => s.name === 'http_server_request_duration_count');
    expect(duration.length).toBeGreaterThan(0);
    expect(new Set(duration.map((s) => s.labels.otel_scope_name))).toEqual(new Set([httpScope]));
    const leftOut = app.stderr().match(/debug: http\.server\.request\.duration is already exported by the app's own instruments/g) ?? [];
    expect(leftOut.length).toBe(httpScope === 'chatpulse' ? 0 : 1);
    // Chatpulse's stream metrics that the app has no instrument for stay.
    expect(types.has('http_server_active_requests')).toBe(true);

    expect(app.stderr()).not.toContain('could not listen');
    expect(app.stderr()).toMatch(/default endpoint on localhost:\d+ stands down/);
    await stops(app);
  }, 40_000);
});

describe.each([
  ['CommonJS, --require', CJS_APP, '--require'],
  ['ESM, --import', ESM_APP, '--import'],
])('an app with NodeSDK and an OTLP PeriodicExportingMetricReader (%s)', (_name, script, flag) => {
  it("pushes the chatbot metrics to the app's OTLP endpoint; Chatpulse's default endpoint stands down", async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const chatpulsePort = await freePort();
    const app = await spawnApp({
      nodeArgs: [flag, REGISTER],
      script,
      env: env({
        OWN_READER: 'otlp',
        OTLP_URL: `http://127.0.0.1:${receiver.port}/v1/metrics`,
        OTEL_EXPORTER_PROMETHEUS_PORT: String(chatpulsePort),
        OTEL_SERVICE_NAME: 'own-otlp-app',
      }),
      readyTimeoutMs: 20_000,
    });
    await chat(app);
    await receiver.waitFor(
      (exports) => exports.some((e) => e.metrics.some((m) => m.name === 'chatbot.streams' && m.points.some((p) => p.value === 1))),
      10_000,
      'chatbot.streams from the app reader',
    );
    const last = receiver.exports.at(-1)!;
    expect(last.resourceAttributes['service.name']).toBe('own-otlp-app');
    const names = last.metrics.map((m) => m.name);
    expect(names).toContain('chatbot.stream.time_to_first_token');
    expect(names.filter((n) => n === 'http.server.request.duration')).toHaveLength(1);
    // The reader's own temporality (cumulative by default) is kept.
    expect(last.metrics.find((m) => m.name === 'chatbot.streams')?.temporality).toBe('cumulative');
    await waitUntil(async () => !(await canConnect('localhost', chatpulsePort)), 5000, "Chatpulse's default endpoint to close");
    await stops(app);
  }, 40_000);
});

describe('an explicitly configured Chatpulse exporter next to the app’s own', () => {
  it('stays: both endpoints serve the chatbot metrics', async () => {
    const [appPort, chatpulsePort] = [await freePort(), await freePort()];
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: CJS_APP,
      env: env({
        OWN_READER: 'prometheus',
        // The app's exporter takes its port from its options; Chatpulse from the variable.
        APP_PROMETHEUS_PORT: String(appPort),
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(chatpulsePort),
        OTEL_SERVICE_NAME: 'explicit',
      }),
      readyTimeoutMs: 20_000,
    });
    await app.waitStdout('APP_EXPORTER_UP', 10_000);
    await chat(app);
    for (const port of [appPort, chatpulsePort]) {
      const samples = parsePrometheus(await scrape(`http://localhost:${port}/metrics`));
      expect(samples.find((s) => s.name === 'chatbot_stream_time_to_first_token_count')?.value, `port ${port}`).toBe(1);
    }
    await stops(app);
  }, 40_000);
});

describe('CHATPULSE_JOIN_APP_SDK=false', () => {
  it("leaves the app's readers alone and keeps Chatpulse's default endpoint", async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const chatpulsePort = await freePort();
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: CJS_APP,
      env: env({
        OWN_READER: 'otlp',
        OTLP_URL: `http://127.0.0.1:${receiver.port}/v1/metrics`,
        OTEL_EXPORTER_PROMETHEUS_PORT: String(chatpulsePort),
        CHATPULSE_JOIN_APP_SDK: 'false',
      }),
      readyTimeoutMs: 20_000,
    });
    await chat(app);
    await get(`http://127.0.0.1:${app.port}/signup`);
    await receiver.waitFor((exports) => exports.some((e) => e.metrics.some((m) => m.name === 'app.signups')), 10_000, 'the app’s own export');
    expect(receiver.exports.flatMap((e) => e.metrics.map((m) => m.name)).filter((n) => n.startsWith('chatbot.'))).toEqual([]);
    const samples = parsePrometheus(await scrape(`http://localhost:${chatpulsePort}/metrics`));
    expect(samples.find((s) => s.name === 'chatbot_stream_time_to_first_token_count')?.value).toBe(1);
    await stops(app);
  }, 40_000);
});
