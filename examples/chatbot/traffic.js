'use strict';

// Traffic driver for the sample chatbot: Poisson arrivals at a target rate, a mix of APIs,
// audio requests, clients that hang up mid-answer and malformed requests, with at most
// `concurrency` requests in flight. Reports outcomes and client-side time to first token.

const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { randomUUID } = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');

// A small fixed set, so the knowledge-base cache warms up and most lookups become hits.
const DEFAULT_QUESTIONS = Object.freeze([
  'How do I reset my password?',
  'When are invoices issued?',
  'Can I upgrade my plan in the middle of the month?',
  'How long does a refund take?',
  'Which two-factor authentication methods are supported?',
  'How do I export my data?',
  'How do I invite a team member?',
  'What is the API rate limit?',
]);

const OUTCOMES = Object.freeze([
  'ok', // the answer completed
  'llm_error', // the server reported a model failure in the stream
  'stream_failed', // the stream broke off without a final event
  'aborted', // this client hung up mid-answer on purpose
  'rejected', // a deliberately invalid request got its 400
  'http_error', // any other unexpected status
  'network_error', // no response at all
  'timeout', // no complete answer within requestTimeoutMs
  'cancelled', // in flight when the driver was stopped
  'dropped', // not sent: `concurrency` requests were already in flight
]);

// Weights of the APIs a simulated client uses; most traffic is SSE, like a web chat widget.
const ROUTES = [
  ['sse-post', 0.6],
  ['sse-get', 0.25],
  ['ndjson', 0.1],
  ['json', 0.05],
];

const INVALID_REQUESTS = [
  { method: 'POST', path: '/api/chat/stream', body: JSON.stringify({ message: '' }) },
  { method: 'GET', path: '/api/chat/invalid-request/stream' },
  { method: 'POST', path: '/api/chat', body: '{"message":' },
];

const CONVERSATIONS = 16;
const REQUEST_TIMEOUT_MS = 60_000; // default per-request bound
/** TTFT percentiles come from a uniform sample of at most this many values, so memory stays bounded. */
const TTFT_SAMPLE_SIZE = 10_000;

const pick = (list) => list[Math.floor(Math.random() * list.length)];

function pickRoute() {
  let r = Math.random();
  for (const [route, weight] of ROUTES) {
    r -= weight;
    if (r < 0) return route;
  }
  return ROUTES[0][0];
}

/** The same question typed differently: the server must normalise it to one cache key. */
function retype(question) {
  const r = Math.random();
  if (r < 0.2) return question.toLowerCase();
  if (r < 0.3) return `  ${question.replace(/\?$/, '')} `;
  return question;
}

function planRequest({ audioRatio, abortRatio, invalidRatio, questions, conversationPrefix }) {
  if (Math.random() < invalidRatio) return { invalid: pick(INVALID_REQUESTS) };
  const route = pickRoute();
  const streaming = route !== 'json';
  return {
    route,
    conversationId: `${conversationPrefix}-${Math.floor(Math.random() * CONVERSATIONS)}`,
    message: retype(pick(questions)),
    audio: streaming && Math.random() < audioRatio,
    // Hang up after 1 to 5 tokens: a user closing the tab or pressing "stop".
    abortAfterTokens: streaming && Math.random() < abortRatio ? 1 + Math.floor(Math.random() * 5) : 0,
  };
}

function buildRequest(baseUrl, plan) {
  if (plan.invalid) {
    const { method, path, body } = plan.invalid;
    return { url: new URL(path, baseUrl), init: { method, body, headers: { 'content-type': 'application/json' } } };
  }
  const { route, conversationId, message, audio } = plan;
  if (route === 'sse-get') {
    const url = new URL(`/api/chat/${encodeURIComponent(conversationId)}/stream`, baseUrl);
    url.searchParams.set('message', message);
    if (audio) url.searchParams.set('audio', '1');
    return { url, init: { method: 'GET', headers: { accept: 'text/event-stream' } } };
  }
  const path = { 'sse-post': '/api/chat/stream', ndjson: '/api/chat/ndjson', json: '/api/chat' }[route];
  return {
    url: new URL(path, baseUrl),
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId, message, audio }),
    },
  };
}

function parseSseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue; // keepalive comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  const payload = data.join('\n');
  switch (event) {
    case 'message':
      return { type: 'token' };
    case 'audio':
      return { type: 'audio' };
    case 'error':
      return { type: 'error', errorType: JSON.parse(payload).type };
    case 'done':
      return { type: 'done', kbCache: JSON.parse(payload).kbCache };
    default:
      return null;
  }
}

function parseNdjsonLine(line) {
  if (line.trim() === '') return null;
  const event = JSON.parse(line);
  return event.type === 'error' ? { type: 'error', errorType: event.error.type } : event;
}

/** Chat events of an SSE or NDJSON body, as { type: 'token' | 'audio' | 'error' | 'done', ... }. */
async function* readEvents(body, format) {
  const [separator, parse] = format === 'sse' ? ['\n\n', parseSseBlock] : ['\n', parseNdjsonLine];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf(separator)) !== -1) {
      const event = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + separator.length);
      if (event) yield event;
    }
  }
}

function createStats() {
  const outcomes = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0]));
  const kbCache = { hit: 0, miss: 0 };
  const ttftSample = [];
  let ttftSeen = 0;
  let audioChunks = 0;
  let ttsErrors = 0;
  let maxInFlight = 0;
  const startedAt = performance.now();

  const percentile = (sorted, p) => (sorted.length ? Math.round(sorted[Math.ceil(p * sorted.length) - 1]) : null);

  return {
    outcome: (outcome) => (outcomes[outcome] += 1),
    kbLookup: (result) => result in kbCache && (kbCache[result] += 1),
    audioChunk: () => (audioChunks += 1),
    ttsError: () => (ttsErrors += 1),
    inFlight: (n) => (maxInFlight = Math.max(maxInFlight, n)),
    ttft(ms) {
      // Reservoir sampling: every value has the same chance to be in the sample.
      ttftSeen += 1;
      if (ttftSample.length < TTFT_SAMPLE_SIZE) ttftSample.push(ms);
      else {
        const slot = Math.floor(Math.random() * ttftSeen);
        if (slot < TTFT_SAMPLE_SIZE) ttftSample[slot] = ms;
      }
    },
    summary() {
      const sorted = [...ttftSample].sort((a, b) => a - b);
      return {
        durationMs: Math.round(performance.now() - startedAt),
        requests: Object.values(outcomes).reduce((a, b) => a + b, 0) - outcomes.dropped,
        maxInFlight,
        outcomes: { ...outcomes },
        kbCache: { ...kbCache },
        audioChunks,
        ttsErrors,
        ttftMs: {
          count: ttftSeen,
          p50: percentile(sorted, 0.5),
          p90: percentile(sorted, 0.9),
          p99: percentile(sorted, 0.99),
          max: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
        },
      };
    },
  };
}

/** Sends one planned request and reads the answer; resolves to its outcome. */
async function runRequest(baseUrl, plan, stopSignal, stats, requestTimeoutMs) {
  const { url, init } = buildRequest(baseUrl, plan);
  const hangUp = new AbortController();
  // A timer we hold, not AbortSignal.timeout(): a timeout signal referenced only from
  // AbortSignal.any() can be garbage-collected before it fires (Node 20), and then never aborts.
  const timedOut = new AbortController();
  const timer = setTimeout(() => timedOut.abort(new DOMException('request timed out', 'TimeoutError')), requestTimeoutMs);
  const signal = AbortSignal.any([stopSignal, hangUp.signal, timedOut.signal]);
  const startedAt = performance.now();
  let responded = false;
  try {
    const res = await fetch(url, { ...init, signal });
    responded = true;
    if (plan.invalid) {
      await res.body?.cancel();
      return res.status === 400 ? 'rejected' : 'http_error';
    }
    if (!res.ok) {
      // The JSON API reports a model failure as a 502 with an error body.
      const body = await res.json().catch(() => null);
      return body?.error?.type === 'llm' ? 'llm_error' : 'http_error';
    }
    if (plan.route === 'json') {
      stats.kbLookup((await res.json()).kbCache);
      return 'ok';
    }
    let tokens = 0;
    for await (const event of readEvents(res.body, plan.route === 'ndjson' ? 'ndjson' : 'sse')) {
      if (event.type === 'token') {
        tokens += 1;
        if (tokens === 1) stats.ttft(performance.now() - startedAt);
        if (tokens === plan.abortAfterTokens) hangUp.abort();
      } else if (event.type === 'audio') {
        stats.audioChunk();
      } else if (event.type === 'error' && event.errorType === 'tts') {
        stats.ttsError(); // the answer goes on as text
      } else if (event.type === 'error') {
        return 'llm_error';
      } else if (event.type === 'done') {
        stats.kbLookup(event.kbCache);
        return 'ok';
      }
    }
    return 'stream_failed';
  } catch (err) {
    if (hangUp.signal.aborted) return 'aborted';
    if (stopSignal.aborted) return 'cancelled';
    if (timedOut.signal.aborted) return 'timeout';
    return responded ? 'stream_failed' : 'network_error';
  } finally {
    clearTimeout(timer);
  }
}

function checkRatio(name, value) {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
}

/**
 * Drives traffic at `rps` (Poisson arrivals) for `durationMs` (0: until `signal` aborts), with
 * at most `concurrency` requests in flight; arrivals beyond that are counted as dropped.
 * Requests spread over 16 conversations named `${conversationPrefix}-0` to `-15`.
 * When the duration is over, requests in flight are awaited; when `signal` aborts, they are cancelled.
 * Resolves to a summary: outcomes, KB cache results, audio chunks, TTS errors, client-side TTFT percentiles.
 */
async function driveTraffic({
  baseUrl,
  rps = 2,
  durationMs = 60_000,
  concurrency = 10,
  audioRatio = 0.3,
  abortRatio = 0.1,
  invalidRatio = 0.05,
  questions = DEFAULT_QUESTIONS,
  conversationPrefix = `traffic-${randomUUID().slice(0, 8)}`,
  signal = new AbortController().signal,
  onProgress,
  progressIntervalMs = 10_000,
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
} = {}) {
  if (!URL.canParse(baseUrl)) throw new TypeError(`baseUrl must be a URL, got ${baseUrl}`);
  if (!(rps > 0)) throw new RangeError(`rps must be > 0, got ${rps}`);
  if (!(durationMs >= 0)) throw new RangeError(`durationMs must be >= 0, got ${durationMs}`);
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  checkRatio('audioRatio', audioRatio);
  checkRatio('abortRatio', abortRatio);
  checkRatio('invalidRatio', invalidRatio);
  if (!Array.isArray(questions) || questions.length === 0 || !questions.every((q) => typeof q === 'string' && q.trim())) {
    throw new TypeError('questions must be a non-empty array of non-empty strings');
  }
  if (typeof conversationPrefix !== 'string' || !/^[\w.:-]{1,120}$/.test(conversationPrefix)) {
    throw new TypeError('conversationPrefix must be 1-120 characters of letters, digits, _ . : -');
  }

  const mix = { audioRatio, abortRatio, invalidRatio, questions, conversationPrefix };
  const stats = createStats();
  const inFlight = new Set();
  // As above: a timer we hold ends the run, so it cannot be lost to garbage collection.
  const deadline = new AbortController();
  const deadlineTimer = durationMs > 0 ? setTimeout(() => deadline.abort(), durationMs) : undefined;
  const stopIssuing = AbortSignal.any([signal, deadline.signal]);
  const progress = onProgress ? setInterval(() => onProgress(stats.summary()), progressIntervalMs) : null;

  try {
    while (!stopIssuing.aborted) {
      try {
        await sleep((-Math.log(1 - Math.random()) / rps) * 1000, undefined, { signal: stopIssuing });
      } catch {
        break; // stopped
      }
      if (inFlight.size >= concurrency) {
        stats.outcome('dropped');
        continue;
      }
      const request = runRequest(baseUrl, planRequest(mix), signal, stats, requestTimeoutMs)
        .then(stats.outcome)
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
      stats.inFlight(inFlight.size);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(progress);
    clearTimeout(deadlineTimer);
  }
  return stats.summary();
}

/** One line for logs: request count, non-zero outcomes, KB hit rate, TTFT percentiles. */
function formatSummary(summary) {
  const outcomes = Object.entries(summary.outcomes)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  const lookups = summary.kbCache.hit + summary.kbCache.miss;
  const hitRate = lookups ? `${Math.round((100 * summary.kbCache.hit) / lookups)}%` : 'n/a';
  const { p50, p90, p99 } = summary.ttftMs;
  const ttft = p50 === null ? 'n/a' : `p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms`;
  return `${summary.requests} requests (${outcomes || 'none yet'}) | kb cache hits ${hitRate} | ttft ${ttft}`;
}

const USAGE = `usage: node examples/chatbot/traffic.js [options]
  --url URL          chatbot base URL (default http://127.0.0.1:3000)
  --rps N            mean requests per second (default 2)
  --duration S       seconds to run, 0 = until Ctrl-C (default 60)
  --concurrency N    max requests in flight (default 10)
  --audio RATIO      share of streaming requests asking for audio (default 0.3)
  --abort RATIO      share of streaming requests hung up mid-answer (default 0.1)
  --invalid RATIO    share of malformed requests (default 0.05)`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3000' },
        rps: { type: 'string', default: '2' },
        duration: { type: 'string', default: '60' },
        concurrency: { type: 'string', default: '10' },
        audio: { type: 'string', default: '0.3' },
        abort: { type: 'string', default: '0.1' },
        invalid: { type: 'string', default: '0.05' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const summary = await driveTraffic({
    baseUrl: values.url,
    rps: Number(values.rps),
    durationMs: Number(values.duration) * 1000,
    concurrency: Number(values.concurrency),
    audioRatio: Number(values.audio),
    abortRatio: Number(values.abort),
    invalidRatio: Number(values.invalid),
    signal: stop.signal,
    onProgress: (s) => console.error(`traffic: ${formatSummary(s)}`),
  });
  console.log(JSON.stringify(summary, null, 2));
}

module.exports = { driveTraffic, formatSummary, DEFAULT_QUESTIONS };

if (require.main === module) {
  main().catch((err) => {
    console.error(`traffic: ${err.message}`);
    process.exit(1);
  });
}
