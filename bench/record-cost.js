'use strict';
/**
 * Micro-benchmark of Chatpulse's in-process hot path, interleaved against a baseline and against the
 * OpenTelemetry SDK doing the same records.
 *
 * Per recorded stream, the calls the HTTP hook makes for one SSE response:
 *   requestStarted → route → streamStarted → firstToken → firstAudio → streamEnded → requestFinished
 *   - chatpulse: the built Recorder (dist/instrumentation/metrics/recorder.js), called directly
 *   - chatpulse (TrackedStream): the same through TrackedStream, exactly as hooks/http.js does it
 *   - otel-sdk: a MeterProvider with one MetricReader and synchronous instruments with the same
 *     names, buckets and attributes: 2 up-down counter adds for http.server.active_requests, 2 for
 *     chatbot.streams.active, 4 histogram records, 1 counter add (9 calls), attributes built per call
 *     as instrumentations do
 *   - otel-sdk (pre-built attributes): the same with attribute objects allocated once (its best case)
 * Per SSE chunk: SseParser.feed on a typical token event, as a string and as a Buffer, and per stream
 * the 12 writes of bench/sse-server.js (10 tokens, audio, done).
 * Per scrape: ChatpulseMetricProducer.collect() against the SDK reader's collect() for the same series.
 *
 * Every case runs in each round, in shuffled order; a case's figure is the median over rounds of its
 * ns per operation, minus the baseline of its group (an empty loop doing the same argument set-up).
 *
 *   npm run build && node bench/record-cost.js [--rounds 15] [--ms 60] [--json out.json]
 */
const fs = require('node:fs');
const path = require('node:path');
const { median } = require('./lib/stats');

const DIST = path.resolve(__dirname, '..', 'dist', 'instrumentation');
for (const f of ['metrics/recorder.js', 'streams/sse-parser.js', 'streams/tracked-stream.js']) {
  if (!fs.existsSync(path.join(DIST, f))) {
    console.error(`${path.join(DIST, f)} is missing: run \`npm run build\` first`);
    process.exit(1);
  }
}
const { Recorder } = require(path.join(DIST, 'metrics/recorder.js'));
const { TrackedStream } = require(path.join(DIST, 'streams/tracked-stream.js'));
const { SseParser } = require(path.join(DIST, 'streams/sse-parser.js'));
const { ChatpulseMetricProducer } = require(path.join(DIST, 'metrics/producer.js'));
const { resolveConfig } = require(path.join(DIST, 'config/env.js'));
const { METRICS, ATTR } = require(path.join(DIST, 'metrics/catalog.js'));
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');

function parseArgs(argv) {
  const o = { rounds: 15, ms: 60, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--ms') o.ms = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/record-cost.js [--rounds N=15] [--ms MS_PER_CASE_PER_ROUND=60] [--json out.json]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}
const opts = parseArgs(process.argv.slice(2));

const ROUTE = '/api/chat/stream';
const METHOD = 'GET';
// Stream timings vary a little per iteration so histogram records hit different buckets, as in life.
const TIMES = Float64Array.from({ length: 64 }, (_, i) => 0.05 + (i % 16) * 0.07);

// ---------------------------------------------------------------------------------------------
// Chatpulse
const { config } = resolveConfig({});
const recorder = new Recorder(config.limits);

function cpRecorder(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t = TIMES[i & 63];
    recorder.requestStarted(METHOD);
    const route = recorder.route(ROUTE);
    recorder.streamStarted(route);
    recorder.firstToken(route, t * 0.3);
    recorder.firstAudio(route, t * 0.6);
    recorder.streamEnded(route, 'completed', t);
    recorder.requestFinished(METHOD, route, 200, t);
    x += t;
  }
  return x;
}

function cpTracked(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t = TIMES[i & 63];
    const t0 = i;
    recorder.requestStarted(METHOD);
    const route = recorder.route(ROUTE);
    const s = new TrackedStream(recorder, route, t0);
    s.firstToken(t0 + t * 300);
    s.firstAudio(t0 + t * 600);
    s.end('completed', t0 + t * 1000);
    recorder.requestFinished(METHOD, route, 200, t);
    x += t;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry SDK, same instruments and attributes
class NullReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const reader = new NullReader();
const provider = new MeterProvider({ readers: [reader] });
const meter = provider.getMeter('bench');
const hist = (d) => meter.createHistogram(d.name, { unit: d.unit, description: d.description, advice: { explicitBucketBoundaries: [...d.buckets] } });
const otel = {
  httpDuration: hist(METRICS.httpServerDuration),
  httpActive: meter.createUpDownCounter(METRICS.httpServerActive.name, { unit: METRICS.httpServerActive.unit }),
  ttft: hist(METRICS.timeToFirstToken),
  ttfa: hist(METRICS.timeToFirstAudio),
  streamDuration: hist(METRICS.streamDuration),
  streamsActive: meter.createUpDownCounter(METRICS.streamsActive.name, { unit: METRICS.streamsActive.unit }),
  streams: meter.createCounter(METRICS.streams.name, { unit: METRICS.streams.unit }),
};

function otelPerCall(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t = TIMES[i & 63];
    otel.httpActive.add(1, { [ATTR.HTTP_METHOD]: METHOD });
    otel.streamsActive.add(1, { [ATTR.HTTP_ROUTE]: ROUTE });
    otel.ttft.record(t * 0.3, { [ATTR.HTTP_ROUTE]: ROUTE });
    otel.ttfa.record(t * 0.6, { [ATTR.HTTP_ROUTE]: ROUTE });
    otel.streamsActive.add(-1, { [ATTR.HTTP_ROUTE]: ROUTE });
    otel.streamDuration.record(t, { [ATTR.HTTP_ROUTE]: ROUTE, [ATTR.STREAM_OUTCOME]: 'completed' });
    otel.streams.add(1, { [ATTR.HTTP_ROUTE]: ROUTE, [ATTR.STREAM_OUTCOME]: 'completed' });
    otel.httpActive.add(-1, { [ATTR.HTTP_METHOD]: METHOD });
    otel.httpDuration.record(t, { [ATTR.HTTP_METHOD]: METHOD, [ATTR.HTTP_ROUTE]: ROUTE, [ATTR.HTTP_STATUS]: 200 });
    x += t;
  }
  return x;
}

const A_METHOD = Object.freeze({ [ATTR.HTTP_METHOD]: METHOD });
const A_ROUTE = Object.freeze({ [ATTR.HTTP_ROUTE]: ROUTE });
const A_OUTCOME = Object.freeze({ [ATTR.HTTP_ROUTE]: ROUTE, [ATTR.STREAM_OUTCOME]: 'completed' });
const A_HTTP = Object.freeze({ [ATTR.HTTP_METHOD]: METHOD, [ATTR.HTTP_ROUTE]: ROUTE, [ATTR.HTTP_STATUS]: 200 });
function otelPrebuilt(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t = TIMES[i & 63];
    otel.httpActive.add(1, A_METHOD);
    otel.streamsActive.add(1, A_ROUTE);
    otel.ttft.record(t * 0.3, A_ROUTE);
    otel.ttfa.record(t * 0.6, A_ROUTE);
    otel.streamsActive.add(-1, A_ROUTE);
    otel.streamDuration.record(t, A_OUTCOME);
    otel.streams.add(1, A_OUTCOME);
    otel.httpActive.add(-1, A_METHOD);
    otel.httpDuration.record(t, A_HTTP);
    x += t;
  }
  return x;
}

// Baseline for the per-stream group: the loop and the timing arithmetic, no recording.
let sink = 0;
function noop(a, b) {
  sink += b === undefined ? 0 : 1;
}
function streamBaseline(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const t = TIMES[i & 63];
    noop(METHOD);
    noop(ROUTE, t * 0.3);
    noop(ROUTE, t * 0.6);
    noop(ROUTE, t);
    noop(METHOD, t);
    x += t;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// SSE parsing
const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const TOKEN_EVENTS = TOKENS.map((t) => `data: ${JSON.stringify({ token: t })}\n\n`);
const TOKEN_BUFFERS = TOKEN_EVENTS.map((s) => Buffer.from(s));
const AUDIO_EVENT = `event: audio\ndata: ${JSON.stringify({ seq: 0, mime: 'audio/ogg', b64: Buffer.alloc(1000, 7).toString('base64') })}\n\n`;
const DONE_EVENT = 'event: done\ndata: {"finish_reason":"stop"}\n\n';
const STREAM_WRITES = [...TOKEN_EVENTS, AUDIO_EVENT, DONE_EVENT];

const parser = new SseParser(config.sse);
function parseString(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += parser.feed(TOKEN_EVENTS[i % 10]);
  return x;
}
// Since the parser learned to skip chunks once the stream's first token is known (feed(chunk, true)).
function parseStringTokenSeen(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += parser.feed(TOKEN_EVENTS[i % 10], true);
  return x;
}
function parseBuffer(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += parser.feed(TOKEN_BUFFERS[i % 10]);
  return x;
}
// What a fast path could cost instead (see bench/README.md): once a stream's first token is recorded,
// a chunk in which no line starts with "e" (so no `event:` field), that has no CR and that ends on a
// blank line cannot change any signal the hook still needs, so a parser at a line boundary with no
// pending event type may skip it. The check only looks at line starts.
function skippableString(c) {
  const n = c.length;
  if (n < 2 || c.charCodeAt(n - 1) !== 10 || c.charCodeAt(n - 2) !== 10 || c.charCodeAt(0) === 101) return false;
  for (let i = c.indexOf('\n'); i !== -1 && i + 1 < n; i = c.indexOf('\n', i + 1)) {
    const d = c.charCodeAt(i + 1);
    if (d === 101 || d === 13) return false;
  }
  return c.indexOf('\r') === -1;
}
function skippableBuffer(b) {
  const n = b.length;
  if (n < 2 || b[n - 1] !== 10 || b[n - 2] !== 10 || b[0] === 101) return false;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 13) return false;
    if (c === 10 && i + 1 < n && b[i + 1] === 101) return false;
  }
  return true;
}
function fastPathCheck(n) {
  let x = 0;
  for (let i = 0; i < n; i++) if (skippableString(TOKEN_EVENTS[i % 10])) x++;
  return x;
}
function fastPathCheckBuffer(n) {
  let x = 0;
  for (let i = 0; i < n; i++) if (skippableBuffer(TOKEN_BUFFERS[i % 10])) x++;
  return x;
}
if (!TOKEN_EVENTS.every(skippableString) || !TOKEN_BUFFERS.every(skippableBuffer) || skippableString(AUDIO_EVENT) || skippableString(DONE_EVENT) || skippableString("event: error\ndata: x\n\n") || skippableString("data: x\nevent: error\n\n")) {
  throw new Error('fast-path check misclassifies the sample events');
}
function chunkBaseline(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += TOKEN_EVENTS[i % 10].length & 1;
  return x;
}
function parseStream(n) {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const p = new SseParser(config.sse); // one parser per response, as the hook allocates it
    // As the hook calls it: tokenSeen and audioSeen once signalled (ignored by parsers without the skip).
    let token = false;
    let audio = false;
    for (let j = 0; j < STREAM_WRITES.length; j++) {
      const s = p.feed(STREAM_WRITES[j], token, audio);
      if (s & 1) token = true;
      if (s & 2) audio = true;
      x += s;
    }
  }
  return x;
}
function streamWritesBaseline(n) {
  let x = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < STREAM_WRITES.length; j++) x += STREAM_WRITES[j].length & 1;
  return x;
}

// ---------------------------------------------------------------------------------------------
// Collection (what one Prometheus scrape asks of each, before text serialization)
const producer = new ChatpulseMetricProducer(recorder, 'cumulative');
// Same series in both: a handful of routes, as an app has.
for (const r of ['/api/chat', '/api/chat/stream', '/api/tts', '/api/health', '/api/history']) {
  const route = recorder.route(r);
  recorder.requestStarted(METHOD);
  const s = new TrackedStream(recorder, route, 0);
  s.firstToken(100);
  s.firstAudio(200);
  s.end('completed', 300);
  recorder.requestFinished(METHOD, route, 200, 0.3);
  otel.httpActive.add(1, { [ATTR.HTTP_METHOD]: METHOD });
  otel.streamsActive.add(1, { [ATTR.HTTP_ROUTE]: r });
  otel.ttft.record(0.1, { [ATTR.HTTP_ROUTE]: r });
  otel.ttfa.record(0.2, { [ATTR.HTTP_ROUTE]: r });
  otel.streamsActive.add(-1, { [ATTR.HTTP_ROUTE]: r });
  for (const o of ['completed', 'failed', 'aborted']) {
    otel.streamDuration.record(0.3, { [ATTR.HTTP_ROUTE]: r, [ATTR.STREAM_OUTCOME]: o });
    otel.streams.add(o === 'completed' ? 1 : 0, { [ATTR.HTTP_ROUTE]: r, [ATTR.STREAM_OUTCOME]: o });
  }
  otel.httpActive.add(-1, { [ATTR.HTTP_METHOD]: METHOD });
  otel.httpDuration.record(0.3, { [ATTR.HTTP_METHOD]: METHOD, [ATTR.HTTP_ROUTE]: r, [ATTR.HTTP_STATUS]: 200 });
}
async function collectChatpulse(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += (await producer.collect()).resourceMetrics.scopeMetrics[0].metrics.length;
  return x;
}
async function collectOtel(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += (await reader.collect()).resourceMetrics.scopeMetrics[0].metrics.length;
  return x;
}

// ---------------------------------------------------------------------------------------------
const CASES = [
  { group: 'stream', name: 'baseline (loop, no recording)', fn: streamBaseline, baseline: true },
  { group: 'stream', name: 'chatpulse Recorder', fn: cpRecorder, chatpulse: true },
  { group: 'stream', name: 'chatpulse via TrackedStream (as the hook)', fn: cpTracked },
  { group: 'stream', name: 'otel-sdk, attributes per call', fn: otelPerCall, otel: true },
  { group: 'stream', name: 'otel-sdk, pre-built attributes', fn: otelPrebuilt },
  { group: 'chunk', name: 'baseline (loop, no parsing)', fn: chunkBaseline, baseline: true },
  { group: 'chunk', name: 'SseParser.feed(string token event)', fn: parseString, chatpulse: true },
  { group: 'chunk', name: 'SseParser.feed(Buffer token event)', fn: parseBuffer },
  { group: 'chunk', name: 'SseParser.feed(string token event, tokenSeen=true)', fn: parseStringTokenSeen },
  { group: 'chunk', name: '(candidate fast-path check, string)', fn: fastPathCheck },
  { group: 'chunk', name: '(candidate fast-path check, Buffer)', fn: fastPathCheckBuffer },
  { group: 'sse-stream', name: 'baseline (loop over the 12 writes)', fn: streamWritesBaseline, baseline: true },
  { group: 'sse-stream', name: 'new SseParser + feed 12 writes (one response)', fn: parseStream },
  { group: 'collect', name: 'chatpulse producer.collect()', fn: collectChatpulse, async: true, chatpulse: true },
  { group: 'collect', name: 'otel-sdk reader.collect()', fn: collectOtel, async: true, otel: true },
];
const GROUP_TITLE = {
  stream: 'per recorded stream (7 recorder calls / 9 SDK calls)',
  chunk: 'per SSE chunk (a `data: {"token":…}` event)',
  'sse-stream': 'per SSE response parsed (10 token events + audio + done)',
  collect: 'per collection (5 routes; no text serialization)',
};

async function runBatch(c, n) {
  const t0 = process.hrtime.bigint();
  const r = c.async ? await c.fn(n) : c.fn(n);
  const t1 = process.hrtime.bigint();
  sink += typeof r === 'number' ? r : 0;
  return Number(t1 - t0) / n;
}

async function calibrate(c) {
  let n = c.async ? 10 : 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    await runBatch(c, n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= opts.ms / 4 || n > 1e8) return Math.max(1, Math.round((n * opts.ms) / Math.max(ms, 0.001)));
    n *= 4;
  }
}

function shuffle(a) {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

async function main() {
  // Warm-up: every case runs until the JIT has settled, then batch sizes are fixed.
  for (const c of CASES) {
    c.n = await calibrate(c);
    await runBatch(c, c.n);
    c.n = await calibrate(c);
    c.samples = [];
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of shuffle(CASES)) c.samples.push(await runBatch(c, c.n));
  }
  const out = [];
  const fmt = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
  const prov = require('./lib/provenance').provenance();
  console.log(`node ${process.version}, ${opts.rounds} interleaved rounds, ~${opts.ms} ms per case per round; commit ${prov.commit}${prov.instrumentationDirty ? ' (+ uncommitted instrumentation changes)' : ''}, dist ${prov.distHash} built ${prov.distBuiltAt}\n`);
  for (const group of Object.keys(GROUP_TITLE)) {
    const cases = CASES.filter((c) => c.group === group);
    const base = cases.find((c) => c.baseline);
    const cp = cases.find((c) => c.chatpulse);
    console.log(`### ${GROUP_TITLE[group]}\n`);
    console.log('| case | median | net of baseline | min – max | vs chatpulse |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const c of cases) {
      const net = c.samples.map((s, i) => s - (base ? base.samples[i] : 0));
      const m = median(c.samples);
      const mNet = c.baseline ? 0 : median(net);
      // Ratio per round of net costs, then the median: robust to a round slowed as a whole.
      let ratio = '';
      if (cp && c !== cp && !c.baseline) {
        const rs = c.samples.map((s, i) => (s - (base ? base.samples[i] : 0)) / (cp.samples[i] - (base ? base.samples[i] : 0)));
        ratio = `${median(rs).toFixed(1)}×`;
      } else if (c === cp) ratio = '1×';
      console.log(
        `| ${c.name} | ${fmt(m)} | ${c.baseline ? '–' : fmt(mNet)} | ${fmt(Math.min(...c.samples))} – ${fmt(Math.max(...c.samples))} | ${ratio} |`,
      );
      out.push({ group, case: c.name, batch: c.n, medianNs: m, netMedianNs: mNet, minNs: Math.min(...c.samples), maxNs: Math.max(...c.samples), ratioToChatpulse: ratio || undefined, samplesNs: c.samples });
    }
    console.log('');
  }
  // A per-stream hook estimate: recording + parsing the response's 12 writes.
  const get = (name) => out.find((o) => o.case === name).netMedianNs;
  const hook = get('chatpulse via TrackedStream (as the hook)') + get('new SseParser + feed 12 writes (one response)');
  console.log(`chatpulse in-process work per SSE stream (TrackedStream path + parsing its 12 writes): ${fmt(hook)}`);
  if (opts.json) {
    fs.writeFileSync(opts.json, JSON.stringify({ ...require('./lib/provenance').provenance(), options: opts, results: out }, null, 2) + '\n');
    console.log(`wrote ${opts.json}`);
  }
  await provider.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
