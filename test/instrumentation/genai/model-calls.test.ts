/**
 * GenAI client metrics from the calls an app makes through the real SDKs (`openai` 6, 5 and 4,
 * `@anthropic-ai/sdk`, the AI SDK 6 and 5 with their OpenAI and Anthropic providers, plain
 * `fetch` to an ElevenLabs-style TTS endpoint), run under `--require chatpulse/register` in a
 * child process against the local fake vendor in ../../fixtures/genai/fake-models.js (OpenAI Chat
 * Completions, Responses and speech, Anthropic Messages, written byte for byte as their API
 * references show them).
 *
 * The fake holds the first output back FIRST ms and spaces outputs GAP ms apart; the app reports
 * what it observed itself. Each reported mean must be within 30 ms of the app's own observation,
 * token counts exact, error types as documented. Calls run two at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import * as path from 'node:path';
import { FIXTURES, REGISTER, freePort, get, killAllChildren, parsePrometheus, scrape, spawnApp, waitUntil, type AppChild, type PromSample } from '../../fixtures/harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startFakeModels, AUDIO_CHUNKS } = require('../../fixtures/genai/fake-models.js') as {
  startFakeModels: (port?: number) => Promise<{ server: http.Server; port: number; requests: { body: string; headers: http.IncomingHttpHeaders }[] }>;
  AUDIO_CHUNKS: number;
};

const FIRST = 250;
const GAP = 40;
const CALLS = 4;
const TOLERANCE = 0.03;

interface Spec {
  client: string;
  api?: string;
  stream: boolean;
  model: string;
  headers?: Record<string, string>;
  prompt?: string;
}

interface Observed {
  firstMs?: number;
  totalMs: number;
  text?: string;
  error?: string;
  status?: number;
}

let fake: Awaited<ReturnType<typeof startFakeModels>>;
let app: AppChild;
let metricsUrl: string;
let healthPort: number;

function post(port: number, body: unknown): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/call', method: 'POST', agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve(JSON.parse(data) as Observed));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.end(JSON.stringify(body));
  });
}

/** CALLS calls of one spec, two at a time. */
async function run(spec: Spec): Promise<Observed[]> {
  const out: Observed[] = [];
  for (let i = 0; i < CALLS; i += 2) out.push(...(await Promise.all([post(app.port, spec), post(app.port, spec)])));
  return out;
}

class Scrape {
  constructor(readonly samples: PromSample[]) {}
  find(name: string, labels: Record<string, string>): PromSample[] {
    return this.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  }
  sum(name: string, labels: Record<string, string>): number {
    return this.find(name, labels).reduce((a, s) => a + s.value, 0);
  }
  mean(metric: string, labels: Record<string, string>): number {
    const count = this.sum(`${metric}_count`, labels);
    if (count === 0) throw new Error(`${metric} ${JSON.stringify(labels)}: no samples`);
    return this.sum(`${metric}_sum`, labels) / count;
  }
}

async function metrics(): Promise<Scrape> {
  return new Scrape(parsePrometheus(await scrape(metricsUrl)));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const timing = { 'x-fake-first': String(FIRST), 'x-fake-gap': String(GAP) };

beforeAll(async () => {
  fake = await startFakeModels();
  const promPort = await freePort();
  healthPort = await freePort();
  metricsUrl = `http://127.0.0.1:${promPort}/metrics`;
  app = await spawnApp({
    nodeArgs: ['--require', REGISTER],
    script: path.join(FIXTURES, 'genai', 'llm-app.js'),
    env: {
      FAKE_URL: `http://127.0.0.1:${fake.port}`,
      API_KEY: 'sk-proj-KEYMARK0123456789',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort),
      CHATPULSE_DEBUG: 'true',
      AI_SDK_LOG_WARNINGS: 'false',
      CHATPULSE_HEALTH_PORT: String(healthPort),
      CHATPULSE_HEALTH_HOST: '127.0.0.1',
      CHATPULSE_HEALTH_MIN_SAMPLES: String(CALLS),
    },
    readyTimeoutMs: 20_000,
  });
  // Each SDK's first call loads modules and builds clients: not what the metrics are about.
  // Each path's first call pays once too (response schemas compiled on first use).
  for (const client of ['openai', 'openai5', 'openai4', 'anthropic', 'ai6-openai', 'ai6-openai-chat', 'ai6-anthropic', 'ai5-openai', 'ai5-anthropic', 'fetch-tts']) {
    for (const stream of [true, false]) await post(app.port, { client, api: 'chat', stream, model: `warm-${client}` });
  }
  for (const stream of [true, false]) await post(app.port, { client: 'openai', api: 'responses', stream, model: 'warm-openai' });
  for (const stream of [true, false]) await post(app.port, { client: 'openai', api: 'speech', stream, model: 'warm-openai' });
}, 60_000);

afterAll(async () => {
  await killAllChildren();
  fake?.server.close();
});

/** The series of one scenario: its request model is unique. */
const byModel = (model: string, extra: Record<string, string> = {}) => ({ gen_ai_request_model: model, ...extra });

describe('streaming calls: time to first chunk, time per chunk, duration, usage', () => {
  const cases: { name: string; spec: Spec; provider: string; responseModel: string; input: number; output: number }[] = [
    { name: 'openai 6 chat completions', spec: { client: 'openai', api: 'chat', stream: true, model: 's-openai-chat' }, provider: 'openai', responseModel: 'gpt-4o-mini', input: 11, output: 5 },
    { name: 'openai 5 chat completions', spec: { client: 'openai5', api: 'chat', stream: true, model: 's-openai5-chat' }, provider: 'openai', responseModel: 'gpt-4o-mini', input: 11, output: 5 },
    // v4 calls through node-fetch and `http.request`, not the global fetch (http-client-hook.ts).
    { name: 'openai 4 chat completions (node-fetch)', spec: { client: 'openai4', api: 'chat', stream: true, model: 's-openai4-chat' }, provider: 'openai', responseModel: 'gpt-4o-mini', input: 11, output: 5 },
    { name: 'openai 4 responses (node-fetch)', spec: { client: 'openai4', api: 'responses', stream: true, model: 's-openai4-resp' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 37, output: 11 },
    { name: 'openai 6 responses', spec: { client: 'openai', api: 'responses', stream: true, model: 's-openai-resp' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 37, output: 11 },
    { name: 'anthropic messages', spec: { client: 'anthropic', api: 'chat', stream: true, model: 's-anthropic' }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 25, output: 15 },
    { name: 'AI SDK 6 streamText, OpenAI responses', spec: { client: 'ai6-openai', stream: true, model: 's-ai6-openai' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 37, output: 11 },
    { name: 'AI SDK 6 streamText, OpenAI chat', spec: { client: 'ai6-openai-chat', stream: true, model: 's-ai6-openai-chat' }, provider: 'openai', responseModel: 'gpt-4o-mini', input: 11, output: 5 },
    { name: 'AI SDK 6 streamText, Anthropic', spec: { client: 'ai6-anthropic', stream: true, model: 's-ai6-anthropic' }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 25, output: 15 },
    { name: 'AI SDK 5 streamText, OpenAI responses', spec: { client: 'ai5-openai', stream: true, model: 's-ai5-openai' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 37, output: 11 },
    { name: 'AI SDK 5 streamText, Anthropic', spec: { client: 'ai5-anthropic', stream: true, model: 's-ai5-anthropic' }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 25, output: 15 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const seen = await run({ ...c.spec, headers: timing });
      for (const s of seen) expect(s.error, JSON.stringify(s)).toBeUndefined();
      for (const s of seen) expect(s.text).toBe('Hello, how can I');
      const m = await metrics();
      const labels = byModel(c.spec.model, { gen_ai_operation_name: 'chat', gen_ai_provider_name: c.provider, gen_ai_response_model: c.responseModel, server_address: '127.0.0.1', server_port: String(fake.port) });
      // The role-only chunk / message_start / content_block_start / ping / response.created come at 0 ms; the first output at FIRST.
      expect(m.sum('gen_ai_client_operation_time_to_first_chunk_count', labels)).toBe(CALLS);
      expect(m.mean('gen_ai_client_operation_time_to_first_chunk', labels)).toBeGreaterThan(FIRST / 1000 - 0.005);
      expect(Math.abs(m.mean('gen_ai_client_operation_time_to_first_chunk', labels) - mean(seen.map((s) => s.firstMs!)) / 1000)).toBeLessThan(TOLERANCE);
      expect(Math.abs(m.mean('gen_ai_client_operation_duration', labels) - mean(seen.map((s) => s.totalMs)) / 1000)).toBeLessThan(TOLERANCE);
      expect(m.find('gen_ai_client_operation_duration_count', { ...labels }).every((s) => s.labels.error_type === undefined)).toBe(true);
      // Five outputs per call: four gaps of GAP ms each.
      expect(m.sum('gen_ai_client_operation_time_per_output_chunk_count', labels)).toBe(CALLS * 4);
      expect(Math.abs(m.mean('gen_ai_client_operation_time_per_output_chunk', labels) - GAP / 1000)).toBeLessThan(TOLERANCE);
      expect(m.sum('gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'input' })).toBe(CALLS * c.input);
      expect(m.sum('gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'output' })).toBe(CALLS * c.output);
      expect(m.sum('gen_ai_client_token_usage_count', { ...labels, gen_ai_token_type: 'output' })).toBe(CALLS);
    });
  }
});

describe('calls that do not stream: duration and usage, no chunk timings', () => {
  const cases: { name: string; spec: Spec; provider: string; responseModel: string; input: number; output: number }[] = [
    { name: 'openai chat completions', spec: { client: 'openai', api: 'chat', stream: false, model: 'n-openai-chat' }, provider: 'openai', responseModel: 'n-openai-chat', input: 19, output: 10 },
    { name: 'openai responses', spec: { client: 'openai', api: 'responses', stream: false, model: 'n-openai-resp' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 36, output: 87 },
    { name: 'openai 4 chat completions (node-fetch)', spec: { client: 'openai4', api: 'chat', stream: false, model: 'n-openai4-chat' }, provider: 'openai', responseModel: 'n-openai4-chat', input: 19, output: 10 },
    { name: 'anthropic messages', spec: { client: 'anthropic', api: 'chat', stream: false, model: 'n-anthropic' }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 2095, output: 503 },
    { name: 'anthropic messages with cache reads (counted as input)', spec: { client: 'anthropic', api: 'chat', stream: false, model: 'n-anthropic-cache', headers: { 'x-fake-cache': '1800' } }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 2095 + 1800, output: 503 },
    { name: 'AI SDK 6 generateText, Anthropic', spec: { client: 'ai6-anthropic', stream: false, model: 'n-ai6-anthropic' }, provider: 'anthropic', responseModel: 'claude-sonnet-4-5', input: 2095, output: 503 },
    { name: 'AI SDK 6 generateText, OpenAI chat', spec: { client: 'ai6-openai-chat', stream: false, model: 'n-ai6-openai-chat' }, provider: 'openai', responseModel: 'n-ai6-openai-chat', input: 19, output: 10 },
    { name: 'AI SDK 5 generateText, OpenAI responses', spec: { client: 'ai5-openai', stream: false, model: 'n-ai5-openai' }, provider: 'openai', responseModel: 'gpt-4.1-2025-04-14', input: 36, output: 87 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const seen = await run({ ...c.spec, headers: { ...c.spec.headers, 'x-fake-first': String(FIRST) } });
      for (const s of seen) expect(s.error, JSON.stringify(s)).toBeUndefined();
      const m = await metrics();
      const labels = byModel(c.spec.model, { gen_ai_operation_name: 'chat', gen_ai_provider_name: c.provider, gen_ai_response_model: c.responseModel });
      expect(m.sum('gen_ai_client_operation_duration_count', labels)).toBe(CALLS);
      expect(Math.abs(m.mean('gen_ai_client_operation_duration', labels) - mean(seen.map((s) => s.totalMs)) / 1000)).toBeLessThan(TOLERANCE);
      expect(m.find('gen_ai_client_operation_time_to_first_chunk_count', byModel(c.spec.model))).toEqual([]);
      expect(m.find('gen_ai_client_operation_time_per_output_chunk_count', byModel(c.spec.model))).toEqual([]);
      expect(m.sum('gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'input' })).toBe(CALLS * c.input);
      expect(m.sum('gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'output' })).toBe(CALLS * c.output);
    });
  }
});

describe('errors: error.type on the duration, no usage', () => {
  const cases: { name: string; spec: Spec; fail: string; errorType: string; streamed: boolean }[] = [
    { name: 'openai 429', spec: { client: 'openai', api: 'chat', stream: true, model: 'e-openai-429' }, fail: '429', errorType: '429', streamed: false },
    { name: 'openai 500 (no retries)', spec: { client: 'openai', api: 'chat', stream: false, model: 'e-openai-500' }, fail: '500', errorType: '500', streamed: false },
    { name: 'openai 4 429 (node-fetch)', spec: { client: 'openai4', api: 'chat', stream: true, model: 'e-openai4-429' }, fail: '429', errorType: '429', streamed: false },
    { name: 'openai 4 stream cut mid-way (node-fetch)', spec: { client: 'openai4', api: 'chat', stream: true, model: 'e-openai4-cut' }, fail: 'cut', errorType: 'ECONNRESET', streamed: true },
    { name: 'anthropic 429', spec: { client: 'anthropic', api: 'chat', stream: true, model: 'e-anthropic-429' }, fail: '429', errorType: '429', streamed: false },
    { name: 'anthropic 500', spec: { client: 'anthropic', api: 'chat', stream: false, model: 'e-anthropic-500' }, fail: '500', errorType: '500', streamed: false },
    { name: 'openai stream cut mid-way', spec: { client: 'openai', api: 'chat', stream: true, model: 'e-openai-cut' }, fail: 'cut', errorType: 'UND_ERR_SOCKET', streamed: true },
    { name: 'anthropic stream cut mid-way', spec: { client: 'anthropic', api: 'chat', stream: true, model: 'e-anthropic-cut' }, fail: 'cut', errorType: 'UND_ERR_SOCKET', streamed: true },
    { name: 'AI SDK 6 stream cut mid-way', spec: { client: 'ai6-anthropic', stream: true, model: 'e-ai6-cut' }, fail: 'cut', errorType: 'UND_ERR_SOCKET', streamed: true },
    { name: 'openai in-stream error', spec: { client: 'openai', api: 'chat', stream: true, model: 'e-openai-serr' }, fail: 'stream-error', errorType: 'server_error', streamed: true },
    { name: 'anthropic in-stream overloaded_error', spec: { client: 'anthropic', api: 'chat', stream: true, model: 'e-anthropic-serr' }, fail: 'stream-error', errorType: 'overloaded_error', streamed: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const seen = await run({ ...c.spec, headers: { ...timing, 'x-fake-fail': c.fail } });
      for (const s of seen) expect(s.error, JSON.stringify(s)).toBeDefined();
      const m = await metrics();
      const failed = m.find('gen_ai_client_operation_duration_count', byModel(c.spec.model));
      expect(failed.map((s) => [s.labels.error_type, s.value])).toEqual([[c.errorType, CALLS]]);
      expect(Math.abs(m.mean('gen_ai_client_operation_duration', byModel(c.spec.model)) - mean(seen.map((s) => s.totalMs)) / 1000)).toBeLessThan(TOLERANCE);
      expect(m.find('gen_ai_client_token_usage_count', byModel(c.spec.model))).toEqual([]);
      // A stream that failed after its first output still reports that first output.
      expect(m.sum('gen_ai_client_operation_time_to_first_chunk_count', byModel(c.spec.model))).toBe(c.streamed ? CALLS : 0);
    });
  }
});

describe('speech synthesis: duration and time to first audio byte', () => {
  // `firstSeen`: the app reads the body as it comes, so it sees the first byte itself; with
  // `arrayBuffer()` it sees only the whole, and the first byte is FIRST ms after the request.
  const cases: { name: string; spec: Spec; provider: string; firstSeen: boolean }[] = [
    { name: 'openai audio.speech, body streamed', spec: { client: 'openai', api: 'speech', stream: true, model: 't-openai-stream' }, provider: 'openai', firstSeen: true },
    { name: 'openai audio.speech, arrayBuffer()', spec: { client: 'openai', api: 'speech', stream: false, model: 't-openai-buffer' }, provider: 'openai', firstSeen: false },
    { name: 'ElevenLabs-style streaming endpoint over fetch', spec: { client: 'fetch-tts', stream: true, model: 't-eleven' }, provider: 'elevenlabs', firstSeen: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const seen = await run({ ...c.spec, headers: timing });
      for (const s of seen) expect(s.error, JSON.stringify(s)).toBeUndefined();
      const m = await metrics();
      const labels = byModel(c.spec.model, { gen_ai_operation_name: 'text_to_speech', gen_ai_provider_name: c.provider });
      expect(m.sum('gen_ai_client_operation_time_to_first_chunk_count', labels)).toBe(CALLS);
      const first = c.firstSeen ? mean(seen.map((s) => s.firstMs!)) : FIRST;
      expect(Math.abs(m.mean('gen_ai_client_operation_time_to_first_chunk', labels) - first / 1000)).toBeLessThan(TOLERANCE);
      expect(Math.abs(m.mean('gen_ai_client_operation_duration', labels) - mean(seen.map((s) => s.totalMs)) / 1000)).toBeLessThan(TOLERANCE);
      expect(m.sum('gen_ai_client_operation_time_per_output_chunk_count', labels)).toBe(CALLS * (AUDIO_CHUNKS - 1));
      expect(Math.abs(m.mean('gen_ai_client_operation_time_per_output_chunk', labels) - GAP / 1000)).toBeLessThan(TOLERANCE);
    });
  }
});

describe('health: each provider the app called is a passive check under /api/v1/health/integrations', () => {
  it('grades providers by model from the calls made (time to first chunk p95, error rate), without probing them', async () => {
    const before = fake.requests.length;
    const r = await get(`http://127.0.0.1:${healthPort}/api/v1/health/integrations?details=true`);
    expect(fake.requests.length).toBe(before);
    const body = JSON.parse(r.body) as { integrations: Record<string, { status: string; message?: string; details?: { passive: boolean; models: Record<string, { calls: number; errors: number; timeToFirstChunkP95Ms: number | null }> } }> };
    expect(Object.keys(body.integrations)).toEqual(expect.arrayContaining(['model:openai', 'model:anthropic', 'model:elevenlabs']));
    const openai = body.integrations['model:openai']!;
    expect(openai.details!.passive).toBe(true);
    // The error cases ran CALLS calls each, all failing: graded fail, and named.
    expect(openai.status).toBe('fail');
    expect(openai.message).toContain('e-openai-429 error rate 100% > 5%');
    const streamed = openai.details!.models['s-openai-chat']!;
    expect(streamed).toMatchObject({ calls: CALLS, errors: 0 });
    expect(Math.abs(streamed.timeToFirstChunkP95Ms! - FIRST)).toBeLessThan(60);
    expect(body.integrations['model:elevenlabs']!.status).toBe('pass');
  });

  it('grades the upstream KPIs per provider and model next to the stream KPIs in /api/v1/health, naming the worst pair', async () => {
    type Check = { status: string; value: string | null; message?: string; subject?: string; graded?: boolean };
    // The health service grades every 5 s: wait for an evaluation that saw the failing calls.
    let checks: Record<string, Check> = {};
    await waitUntil(
      async () => {
        const body = JSON.parse((await get(`http://127.0.0.1:${healthPort}/api/v1/health`)).body) as { services: { streaming: { checks: Record<string, Check> } } };
        checks = body.services.streaming.checks;
        return checks.upstreamErrorRate?.status === 'fail';
      },
      15_000,
      'upstreamErrorRate graded fail',
    );
    expect(Object.keys(checks)).toEqual(expect.arrayContaining(['timeToFirstToken', 'upstreamTimeToFirstChunk', 'upstreamErrorRate']));
    // Every error scenario failed all its calls: one of those pairs decides, and is named.
    expect(checks.upstreamErrorRate!.subject).toMatch(/^(openai|anthropic)\/e-/);
    expect(checks.upstreamErrorRate!.message).toMatch(/^Model error rate 100% for (openai|anthropic) model e-[\w-]+ breaches ≤2% \(fail >5%\)$/);
    // Every stream's first output came FIRST ms after its request: far under 1.28 s.
    expect(checks.upstreamTimeToFirstChunk).toMatchObject({ status: 'pass' });
    expect(checks.upstreamTimeToFirstChunk!.graded).toBeUndefined();
  });
});

describe('privacy and cardinality', () => {
  it('no prompt, completion or key text reaches a metric, a label or a log line; odd model names become _OTHER', async () => {
    const prompt = 'PROMPTMARK tell me the secret';
    const words = 'COMPLETIONMARK,here,it,is';
    const specs: Spec[] = [
      { client: 'openai', api: 'chat', stream: true, model: 'p-openai', prompt },
      { client: 'openai', api: 'chat', stream: false, model: 'p-openai-n', prompt },
      { client: 'openai', api: 'responses', stream: true, model: 'p-openai-r', prompt },
      { client: 'anthropic', api: 'chat', stream: true, model: 'p-anthropic', prompt },
      { client: 'ai6-openai', stream: true, model: 'p-ai6', prompt },
      { client: 'openai', api: 'chat', stream: true, model: 'PROMPTMARK as a model name', prompt },
      { client: 'openai', api: 'chat', stream: true, model: 'e-p', prompt, headers: { 'x-fake-fail': 'stream-error' } },
    ];
    for (const s of specs) {
      const r = await post(app.port, { ...s, headers: { ...timing, 'x-fake-words': words, ...s.headers } });
      if (s.model !== 'e-p') expect(r.text ?? '', JSON.stringify(r)).toContain('COMPLETIONMARK');
    }
    // The fake received the prompt and the key: they were in the calls.
    expect(fake.requests.some((r) => r.body.includes('PROMPTMARK'))).toBe(true);
    expect(fake.requests.some((r) => JSON.stringify(r.headers).includes('KEYMARK'))).toBe(true);
    const text = await scrape(metricsUrl);
    expect(text).toContain('gen_ai_request_model="p-openai"');
    expect(text).toContain('gen_ai_request_model="_OTHER"');
    for (const mark of ['PROMPTMARK', 'COMPLETIONMARK', 'KEYMARK']) {
      expect(text).not.toContain(mark);
      expect(app.stdout()).not.toContain(mark);
      expect(app.stderr()).not.toContain(mark);
    }
  });
});
